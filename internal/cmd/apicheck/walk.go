package main

import (
	"bytes"
	"fmt"
	"go/types"
	"slices"
	"strings"
)

// features returns the API of pkg as sorted lines in the format of Go's
// api/go1.*.txt files, each starting with "pkg label, ".
//
// hidden reports whether a named type is described by no API file: an
// unexported type, or one in an internal package of the tree. Such a
// type is listed under pkg too when pkg's API reaches it (an exported
// function returns it, an exported struct embeds it, ...), since its
// exported fields and methods are then pkg's API as well.
func features(pkg *types.Package, label string, hidden func(*types.TypeName) bool) []string {
	w := newWalker(pkg, label, hidden, nil)
	w.walk()
	// A package name that stands for two import paths in this API is
	// written as the full import path instead.
	var byPath map[string]bool
	for name, paths := range w.names {
		if len(paths) > 1 {
			if byPath == nil {
				byPath = map[string]bool{}
			}
			byPath[name] = true
		}
	}
	if byPath != nil {
		w = newWalker(pkg, label, hidden, byPath)
		w.walk()
	}
	out := make([]string, 0, len(w.features))
	for f := range w.features {
		out = append(out, f)
	}
	slices.Sort(out)
	return out
}

// walker collects the features of one package. Its emit and write
// methods follow cmd/api (GOROOT/src/cmd/api/main_test.go), so the
// lines read like Go's own; it adds the hidden types reached, the type
// terms of constraint interfaces, and full anonymous struct and
// interface types.
type walker struct {
	pkg      *types.Package
	label    string
	hidden   func(*types.TypeName) bool
	byPath   map[string]bool // package names written as import paths
	names    map[string]map[string]bool
	scope    []string
	features map[string]bool
	queue    []*types.TypeName // hidden types reached, to list
	queued   map[*types.TypeName]bool
}

func newWalker(pkg *types.Package, label string, hidden func(*types.TypeName) bool, byPath map[string]bool) *walker {
	return &walker{
		pkg: pkg, label: label, hidden: hidden, byPath: byPath,
		names:    map[string]map[string]bool{},
		features: map[string]bool{},
		queued:   map[*types.TypeName]bool{},
	}
}

func (w *walker) walk() {
	defer w.push("pkg " + w.label)()
	scope := w.pkg.Scope()
	for _, name := range scope.Names() {
		if obj := scope.Lookup(name); obj.Exported() {
			w.emitObj(obj)
		}
	}
	for len(w.queue) > 0 {
		obj := w.queue[0]
		w.queue = w.queue[1:]
		w.emitType(obj)
	}
}

func (w *walker) push(name string) (pop func()) {
	w.scope = append(w.scope, name)
	return func() { w.scope = w.scope[:len(w.scope)-1] }
}

func (w *walker) emitf(format string, args ...any) {
	w.features[strings.Join(w.scope, ", ")+", "+fmt.Sprintf(format, args...)] = true
}

// reach queues the named type behind typ (through pointers and
// aliases) if it is hidden.
func (w *walker) reach(typ types.Type) {
	typ = types.Unalias(typ)
	if p, ok := typ.(*types.Pointer); ok {
		typ = types.Unalias(p.Elem())
	}
	n, ok := typ.(*types.Named)
	if !ok {
		return
	}
	obj := n.Origin().Obj()
	if w.hidden(obj) && !w.queued[obj] {
		w.queued[obj] = true
		w.queue = append(w.queue, obj)
	}
}

func (w *walker) emitObj(obj types.Object) {
	switch obj := obj.(type) {
	case *types.Const:
		w.emitf("const %s %s", obj.Name(), w.typeString(obj.Type()))
		short, exact := obj.Val().String(), obj.Val().ExactString()
		if short == exact {
			w.emitf("const %s = %s", obj.Name(), short)
		} else {
			w.emitf("const %s = %s  // %s", obj.Name(), short, exact)
		}
	case *types.Var:
		w.emitf("var %s %s", obj.Name(), w.typeString(obj.Type()))
	case *types.TypeName:
		w.emitType(obj)
	case *types.Func:
		w.emitf("func %s%s", obj.Name(), w.signatureString(obj.Signature()))
	}
}

func (w *walker) emitType(obj *types.TypeName) {
	var name bytes.Buffer
	w.writeName(&name, obj)
	if alias, ok := obj.Type().(*types.Alias); ok {
		if tparams := alias.TypeParams(); tparams != nil {
			w.writeTypeParams(&name, tparams, true)
		}
		w.emitf("type %s = %s", name.String(), w.typeString(types.Unalias(alias)))
		return
	}
	typ := obj.Type().(*types.Named)
	if tparams := typ.TypeParams(); tparams != nil {
		w.writeTypeParams(&name, tparams, true)
	}
	switch u := typ.Underlying().(type) {
	case *types.Struct:
		w.emitStructType(name.String(), u)
	case *types.Interface:
		w.emitIfaceType(name.String(), u)
		return // its methods are listed with it
	default:
		w.emitf("type %s %s", name.String(), w.typeString(u))
	}
	// The methods of T, then those only *T has.
	done := map[string]bool{}
	for _, recv := range []types.Type{typ, types.NewPointer(typ)} {
		mset := types.NewMethodSet(recv)
		for i := range mset.Len() {
			if m := mset.At(i); m.Obj().Exported() && !done[m.Obj().Name()] {
				done[m.Obj().Name()] = true
				w.emitMethod(m)
			}
		}
	}
}

func (w *walker) emitStructType(name string, st *types.Struct) {
	w.emitf("type %s struct", name)
	defer w.push(fmt.Sprintf("type %s struct", name))()
	for f := range st.Fields() {
		switch {
		case f.Exported() && f.Embedded():
			w.emitf("embedded %s", w.typeString(f.Type()))
		case f.Exported():
			w.emitf("%s %s", f.Name(), w.typeString(f.Type()))
		case f.Embedded():
			// Its exported fields and methods are promoted.
			w.reach(f.Type())
		}
	}
}

func (w *walker) emitIfaceType(name string, it *types.Interface) {
	pop := w.push(fmt.Sprintf("type %s interface", name))
	var summary []string
	complete := true
	for m := range it.Methods() {
		if !m.Exported() {
			complete = false
			continue
		}
		summary = append(summary, m.Name())
		w.emitf("%s%s", m.Name(), w.signatureString(m.Signature()))
	}
	if !complete {
		// Only this package can implement it, so methods may be
		// added; a changed or removed one still shows above.
		w.emitf("unexported methods")
	}
	pop()
	if !complete {
		return
	}
	summary = append(summary, w.sortedTerms(it)...)
	if len(summary) == 0 {
		w.emitf("type %s interface {}", name)
		return
	}
	w.emitf("type %s interface { %s }", name, strings.Join(summary, ", "))
}

func (w *walker) emitMethod(m *types.Selection) {
	sig := m.Type().(*types.Signature)
	recv := sig.Recv().Type()
	var buf bytes.Buffer
	w.writeType(&buf, recv)
	base := recv
	if p, ok := recv.(*types.Pointer); ok {
		base = p.Elem()
	}
	if tparams := base.(*types.Named).TypeParams(); tparams != nil {
		w.writeTypeParams(&buf, tparams, false)
	}
	w.emitf("method (%s) %s%s", buf.String(), m.Obj().Name(), w.signatureString(sig))
}

// sortedTerms returns the type terms of a constraint interface, the
// terms of each union sorted: "~int | ~string".
func (w *walker) sortedTerms(it *types.Interface) []string {
	var list []string
	for emb := range it.EmbeddedTypes() {
		switch u := emb.Underlying().(type) {
		case *types.Interface:
			list = append(list, w.sortedTerms(u)...)
		case *types.Union:
			var terms []string
			for t := range u.Terms() {
				var buf bytes.Buffer
				if t.Tilde() {
					buf.WriteByte('~')
				}
				w.writeType(&buf, t.Type())
				terms = append(terms, buf.String())
			}
			slices.Sort(terms)
			list = append(list, strings.Join(terms, " | "))
		default:
			list = append(list, w.typeString(emb))
		}
	}
	slices.Sort(list)
	return list
}
