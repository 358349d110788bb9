package main

import (
	"bytes"
	"fmt"
	"go/types"
	"strings"
)

// writeType writes typ as Go's api files do: byte and rune as uint8 and
// int32, aliases resolved (any is interface{}), untyped constants as
// ideal-int and so on, type parameters as $0, $1... by position (their
// names are no part of the API), and a type of another package with
// its package name (or its import path, when two packages in this API
// share a name).
func (w *walker) writeType(buf *bytes.Buffer, typ types.Type) {
	switch typ := typ.(type) {
	case *types.Basic:
		buf.WriteString(basicName(typ))
	case *types.Array:
		fmt.Fprintf(buf, "[%d]", typ.Len())
		w.writeType(buf, typ.Elem())
	case *types.Slice:
		buf.WriteString("[]")
		w.writeType(buf, typ.Elem())
	case *types.Pointer:
		buf.WriteByte('*')
		w.writeType(buf, typ.Elem())
	case *types.Map:
		buf.WriteString("map[")
		w.writeType(buf, typ.Key())
		buf.WriteByte(']')
		w.writeType(buf, typ.Elem())
	case *types.Chan:
		switch typ.Dir() {
		case types.SendOnly:
			buf.WriteString("chan<- ")
		case types.RecvOnly:
			buf.WriteString("<-chan ")
		default:
			buf.WriteString("chan ")
		}
		w.writeType(buf, typ.Elem())
	case *types.Signature:
		buf.WriteString("func")
		w.writeSignature(buf, typ)
	case *types.Struct:
		w.writeStruct(buf, typ)
	case *types.Interface:
		w.writeInterface(buf, typ)
	case *types.Alias:
		w.writeType(buf, types.Unalias(typ))
	case *types.Named:
		w.writeName(buf, typ.Obj())
		if targs := typ.TypeArgs(); targs.Len() > 0 {
			buf.WriteByte('[')
			for i := range targs.Len() {
				if i > 0 {
					buf.WriteString(", ")
				}
				w.writeType(buf, targs.At(i))
			}
			buf.WriteByte(']')
		}
		w.reach(typ)
	case *types.TypeParam:
		fmt.Fprintf(buf, "$%d", typ.Index())
	default:
		panic(fmt.Sprintf("apicheck: unexpected type %T", typ))
	}
}

func basicName(typ *types.Basic) string {
	switch typ.Kind() {
	case types.UnsafePointer:
		return "unsafe.Pointer"
	case types.UntypedBool:
		return "ideal-bool"
	case types.UntypedInt:
		return "ideal-int"
	case types.UntypedRune:
		return "ideal-char" // as cmd/api writes it
	case types.UntypedFloat:
		return "ideal-float"
	case types.UntypedComplex:
		return "ideal-complex"
	case types.UntypedString:
		return "ideal-string"
	case types.Byte:
		return "uint8"
	case types.Rune:
		return "int32"
	}
	return typ.Name()
}

// writeName writes a type's name, qualified unless it is declared in
// the package being walked.
func (w *walker) writeName(buf *bytes.Buffer, obj *types.TypeName) {
	if pkg := obj.Pkg(); pkg != nil && pkg != w.pkg {
		if w.byPath[pkg.Name()] {
			buf.WriteString(pkg.Path())
		} else {
			buf.WriteString(pkg.Name())
			if w.names[pkg.Name()] == nil {
				w.names[pkg.Name()] = map[string]bool{}
			}
			w.names[pkg.Name()][pkg.Path()] = true
		}
		buf.WriteByte('.')
	}
	buf.WriteString(obj.Name())
}

// writeStruct writes an anonymous struct type with all its fields, since
// each is part of the type's identity: struct{ A int; b string }.
func (w *walker) writeStruct(buf *bytes.Buffer, st *types.Struct) {
	if st.NumFields() == 0 {
		buf.WriteString("struct{}")
		return
	}
	buf.WriteString("struct{ ")
	for i := range st.NumFields() {
		f := st.Field(i)
		if i > 0 {
			buf.WriteString("; ")
		}
		if !f.Embedded() {
			buf.WriteString(f.Name())
			buf.WriteByte(' ')
		}
		w.writeType(buf, f.Type())
	}
	buf.WriteString(" }")
}

// writeInterface writes an anonymous interface type with its whole
// method set and its type terms: interface{ Close() error; ~int }.
func (w *walker) writeInterface(buf *bytes.Buffer, it *types.Interface) {
	var parts []string
	for m := range it.Methods() {
		parts = append(parts, m.Name()+w.signatureString(m.Signature()))
	}
	parts = append(parts, w.sortedTerms(it)...)
	if len(parts) == 0 {
		buf.WriteString("interface{}")
		return
	}
	buf.WriteString("interface{ " + strings.Join(parts, "; ") + " }")
}

func (w *walker) writeSignature(buf *bytes.Buffer, sig *types.Signature) {
	if tparams := sig.TypeParams(); tparams != nil {
		w.writeTypeParams(buf, tparams, true)
	}
	w.writeParams(buf, sig.Params(), sig.Variadic())
	switch res := sig.Results(); res.Len() {
	case 0:
	case 1:
		buf.WriteByte(' ')
		w.writeType(buf, res.At(0).Type())
	default:
		buf.WriteByte(' ')
		w.writeParams(buf, res, false)
	}
}

func (w *walker) writeTypeParams(buf *bytes.Buffer, tparams *types.TypeParamList, withConstraints bool) {
	buf.WriteByte('[')
	for i := range tparams.Len() {
		tp := tparams.At(i)
		if i > 0 {
			buf.WriteString(", ")
		}
		w.writeType(buf, tp)
		if withConstraints {
			buf.WriteByte(' ')
			w.writeType(buf, tp.Constraint())
		}
	}
	buf.WriteByte(']')
}

func (w *walker) writeParams(buf *bytes.Buffer, t *types.Tuple, variadic bool) {
	buf.WriteByte('(')
	for i := range t.Len() {
		if i > 0 {
			buf.WriteString(", ")
		}
		typ := t.At(i).Type()
		if variadic && i == t.Len()-1 {
			buf.WriteString("...")
			typ = typ.(*types.Slice).Elem()
		}
		w.writeType(buf, typ)
	}
	buf.WriteByte(')')
}

func (w *walker) typeString(typ types.Type) string {
	var buf bytes.Buffer
	w.writeType(&buf, typ)
	return buf.String()
}

func (w *walker) signatureString(sig *types.Signature) string {
	var buf bytes.Buffer
	w.writeSignature(&buf, sig)
	return buf.String()
}
