package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"
)

// version is the release the tests serve.
const version = "v0.1.0"

// tree writes files (slash paths, contents) under a new directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// repo is a small repository of the same shape as latch's.
var repo = map[string]string{
	"go.mod":                       "module " + corePath + "\n\ngo 1.26\n",
	"LICENSE":                      "the license\n",
	"latch.go":                     "package latch\n",
	"latch_test.go":                "package latch\n",
	"token/token.go":               "package token\n",
	"internal/helper/helper.go":    "package helper\n",
	"cmd/tool/main.go":             "package main\n",
	"testdata/x/x.go":              "package x\n",
	"docs/notes.md":                "notes\n",
	"store/sqlstore/go.mod":        "module " + corePath + "/store/sqlstore\n\ngo 1.26\n\nrequire " + corePath + " v0.1.0\n\nreplace " + corePath + " => ../..\n",
	"store/sqlstore/sqlstore.go":   "package sqlstore\n",
	"store/sqlstore/pg/pg.go":      "package pg\n",
	"examples/demo/go.mod":         "module " + corePath + "/examples/demo\n\ngo 1.26\n",
	"examples/demo/main.go":        "package main\n",
	"internal/tool/go.mod":         "module " + corePath + "/internal/tool\n\ngo 1.26\n",
	"internal/tool/main.go":        "package main\n",
	"store/sqlstore/testdata/x.db": "data",
}

func TestFindModules(t *testing.T) {
	mods, err := findModules(tree(t, repo))
	if err != nil {
		t.Fatal(err)
	}
	want := []mod{
		{corePath, "."},
		{corePath + "/examples/demo", "examples/demo"},
		{corePath + "/internal/tool", "internal/tool"},
		{corePath + "/store/sqlstore", "store/sqlstore"},
	}
	if !slices.Equal(mods, want) {
		t.Fatalf("findModules = %v, want %v", mods, want)
	}
	var published []string
	for _, m := range mods {
		if m.published() {
			published = append(published, m.Dir)
		}
	}
	if want := []string{".", "store/sqlstore"}; !slices.Equal(published, want) {
		t.Errorf("published: %q, want %q", published, want)
	}
}

// zipped serves m of root from a new proxy and returns the names in its
// zip and the packages a user can import.
func zipped(t *testing.T, root string, m mod) (names, pkgs []string, proxy string) {
	t.Helper()
	proxy = t.TempDir()
	pkgs, err := serve(root, proxy, m, version)
	if err != nil {
		t.Fatal(err)
	}
	esc, _ := module.EscapePath(m.Path)
	zipFile := filepath.Join(proxy, filepath.FromSlash(esc), "@v", version+".zip")
	checked, err := modzip.CheckZip(module.Version{Path: m.Path, Version: version}, zipFile)
	if err != nil {
		t.Fatalf("the zip is not one the go command accepts: %v", err)
	}
	prefix := m.Path + "@" + version + "/"
	for _, name := range checked.Valid {
		names = append(names, strings.TrimPrefix(name, prefix))
	}
	return names, pkgs, proxy
}

func TestServeCore(t *testing.T) {
	root := tree(t, repo)
	names, pkgs, proxy := zipped(t, root, mod{corePath, "."})
	// Nested modules, whatever they are, stay out; testdata and the
	// rest go in, as the go command would do.
	wantNames := []string{"LICENSE", "cmd/tool/main.go", "docs/notes.md", "go.mod", "internal/helper/helper.go",
		"latch.go", "latch_test.go", "testdata/x/x.go", "token/token.go"}
	if slices.Sort(names); !slices.Equal(names, wantNames) {
		t.Errorf("zip holds %q, want %q", names, wantNames)
	}
	if want := []string{corePath, corePath + "/token"}; !slices.Equal(pkgs, want) {
		t.Errorf("importable %q, want %q (no main, internal or testdata package)", pkgs, want)
	}
	dir := filepath.Join(proxy, "github.com", "latchauth", "latch", "@v")
	if list, err := os.ReadFile(filepath.Join(dir, "list")); err != nil || string(list) != "v0.1.0\n" {
		t.Errorf("list %q (%v)", list, err)
	}
	if gomod, err := os.ReadFile(filepath.Join(dir, "v0.1.0.mod")); err != nil || string(gomod) != repo["go.mod"] {
		t.Errorf(".mod %q (%v), want the tree's go.mod", gomod, err)
	}
	var info struct {
		Version string
		Time    time.Time
	}
	data, err := os.ReadFile(filepath.Join(dir, "v0.1.0.info"))
	if err == nil {
		err = json.Unmarshal(data, &info)
	}
	if err != nil || info.Version != version || time.Since(info.Time) > time.Hour {
		t.Errorf(".info %s (%v)", data, err)
	}
}

func TestServeNested(t *testing.T) {
	names, pkgs, _ := zipped(t, tree(t, repo), mod{corePath + "/store/sqlstore", "store/sqlstore"})
	// The repository's LICENSE comes along, as the go command adds it.
	want := []string{"LICENSE", "go.mod", "pg/pg.go", "sqlstore.go", "testdata/x.db"}
	if slices.Sort(names); !slices.Equal(names, want) {
		t.Errorf("zip holds %q, want %q", names, want)
	}
	if want := []string{corePath + "/store/sqlstore", corePath + "/store/sqlstore/pg"}; !slices.Equal(pkgs, want) {
		t.Errorf("importable %q, want %q", pkgs, want)
	}
}

// TestServeGitTree: in a git work tree, what .gitignore excludes stays
// out of the zip (a local database, a binary), while files not yet
// committed go in.
func TestServeGitTree(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git is needed: %v", err)
	}
	files := map[string]string{".gitignore": "/latch-data/\n/seed\n", "latch-data/sessions.db": "db", "seed": "binary"}
	for k, v := range repo {
		files[k] = v
	}
	root := tree(t, files)
	for _, args := range [][]string{{"init", "-q"}, {"add", "go.mod", "latch.go"}} {
		cmd := exec.Command(git, args...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	names, _, _ := zipped(t, root, mod{corePath, "."})
	for _, name := range []string{"latch-data/sessions.db", "seed"} {
		if slices.Contains(names, name) {
			t.Errorf("the zip holds %s, which .gitignore excludes", name)
		}
	}
	for _, name := range []string{".gitignore", "go.mod", "token/token.go"} {
		if !slices.Contains(names, name) {
			t.Errorf("the zip lacks %s", name)
		}
	}
}

func TestCasesFor(t *testing.T) {
	published := []mod{{corePath, "."}, {sqlstorePath, "store/sqlstore"}}
	pkgs := map[string][]string{corePath: {corePath}, sqlstorePath: {sqlstorePath}}
	cases := casesFor(published, pkgs, version)
	if len(cases) != 3 {
		t.Fatalf("%d cases, want a user of each module and a PostgreSQL-only one", len(cases))
	}
	if !cases[0].coreOnly || cases[1].coreOnly || cases[1].require.Path != sqlstorePath || cases[1].require.Version != version {
		t.Errorf("cases %+v", cases[:2])
	}
	pg := cases[2]
	if !strings.Contains(pg.missing, postgresOnly+" is not in the tree yet") {
		t.Errorf("PostgreSQL-only case without its package: missing %q", pg.missing)
	}
	if r := pg.run(t.TempDir(), nil); len(r.problems) != 1 || r.problems[0] != pg.missing {
		t.Errorf("a case that cannot run reports %q, want its reason", r.problems)
	}

	pkgs[sqlstorePath] = append(pkgs[sqlstorePath], postgresOnly)
	pg = casesFor(published, pkgs, version)[2]
	if pg.missing != "" || !slices.Equal(pg.imports, []string{postgresOnly}) || !slices.Equal(pg.unlinked, notForPostgres) {
		t.Errorf("PostgreSQL-only case %+v", pg)
	}
}

func TestUserEnv(t *testing.T) {
	base := []string{"HOME=/root", "GOFLAGS=-mod=vendor", "GOPRIVATE=github.com/latchauth", "GOWORK=/x/go.work", "PATH=/bin"}
	env := userEnv(base, "/tmp/p", "/tmp/mc", "https://proxy.example,direct")
	want := []string{
		"HOME=/root", "PATH=/bin",
		"GOFLAGS=-mod=mod -trimpath",
		"GOMODCACHE=/tmp/mc",
		"GONOPROXY=",
		"GONOSUMDB=" + corePath,
		"GOPRIVATE=",
		"GOPROXY=file:///tmp/p,https://proxy.example,direct",
		"GOTOOLCHAIN=local",
		"GOWORK=off",
	}
	if !slices.Equal(env, want) {
		t.Errorf("userEnv =\n%q\nwant\n%q", env, want)
	}
	env = userEnv(nil, "/tmp/p", "/tmp/mc", "")
	if !slices.Contains(env, "GOPROXY=file:///tmp/p") {
		t.Errorf("without a usual proxy: %q", env)
	}
}

func TestSummaryLine(t *testing.T) {
	ok := summaryLine(result{name: corePath, packages: 5, graph: 2, elapsed: 1500 * time.Millisecond})
	if want := "ok   " + corePath + strings.Repeat(" ", 48-len(corePath)) + " 5 packages, 2 modules in the graph, 1.5s\n"; ok != want {
		t.Errorf("ok line %q, want %q", ok, want)
	}
	fail := summaryLine(result{name: "x", packages: 1, problems: []string{"go mod tidy: exit status 1\n\tgo: boom"}})
	if want := "FAIL x" + strings.Repeat(" ", 47) + " 1 package, 0.0s\n     go mod tidy: exit status 1\n     \tgo: boom\n"; fail != want {
		t.Errorf("fail line %q, want %q", fail, want)
	}
}
