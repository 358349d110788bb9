// Package jsonclone deep-copies values as encoding/json decodes them into
// any, such as a session's claims.
package jsonclone

// Clone deep-copies v: maps and slices are copied, and the rest (string,
// float64, bool, nil) are immutable.
func Clone(v any) any {
	switch v := v.(type) {
	case map[string]any:
		return Map(v)
	case []any:
		c := make([]any, len(v))
		for i, e := range v {
			c[i] = Clone(e)
		}
		return c
	}
	return v
}

// Map deep-copies m; nil stays nil.
func Map(m map[string]any) map[string]any {
	if m == nil {
		return nil
	}
	c := make(map[string]any, len(m))
	for k, e := range m {
		c[k] = Clone(e)
	}
	return c
}
