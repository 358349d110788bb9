package sqlstore

import (
	"reflect"
	"strings"
	"testing"
)

// TestRowFields: row.fields points at the fields whose db tags are
// columns, in that order, so Scan fills each from its own column.
func TestRowFields(t *testing.T) {
	var r row
	v := reflect.ValueOf(&r).Elem()
	byAddr := map[uintptr]string{}
	for i := range v.NumField() {
		byAddr[v.Field(i).Addr().Pointer()] = v.Type().Field(i).Tag.Get("db")
	}
	var got []string
	for _, p := range r.fields() {
		got = append(got, byAddr[reflect.ValueOf(p).Pointer()])
	}
	want := strings.Fields(strings.ReplaceAll(columns, ",", " "))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("row.fields is\n%v\nwant the columns\n%v", got, want)
	}
}
