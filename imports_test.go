package main

import (
	"go/ast"
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const module = "github.com/ece-exporter/ece_exporter"

// TestImportDirection keeps the layering of DESIGN.md (issue 15 §5 §7):
// main wires config, collector and admin; those reach the API through
// eceapi; eceapi knows no Prometheus and no simulator; the simulator
// (internal/ecesim) lives outside eceapi and only tests, the bench harness
// and main's --demo use it. The imports are read from the non-test
// sources of each package, as the build sees them.
func TestImportDirection(t *testing.T) {
	t.Parallel()
	forbidden := map[string][]string{
		"eceapi":          {"github.com/prometheus/", module + "/internal/ecesim", module + "/config", module + "/collector", module + "/admin", "os"},
		"config":          {module + "/internal/ecesim", module + "/collector", module + "/admin"},
		"collector":       {module + "/internal/ecesim", module + "/admin"},
		"admin":           {module + "/internal/ecesim", module + "/collector", module + "/config"},
		"internal/ecesim": {module + "/eceapi", module + "/config", module + "/collector", module + "/admin"},
		"internal/secret": {module + "/"},
	}
	for pkg, bans := range forbidden {
		p, err := build.Default.Import(path.Join(module, pkg), ".", 0)
		require.NoError(t, err, pkg)
		require.NotEmpty(t, p.GoFiles, pkg)
		for _, imp := range p.Imports {
			for _, ban := range bans {
				bad := imp == ban || (strings.HasSuffix(ban, "/") && strings.HasPrefix(imp, ban)) || strings.HasPrefix(imp, ban+"/")
				assert.False(t, bad, "%s imports %s", pkg, imp)
			}
		}
	}
	// The simulator is not part of the client.
	_, err := build.Default.Import(module+"/eceapi/sim", ".", build.FindOnly)
	assert.Error(t, err, "eceapi/sim must not exist: the simulator is internal/ecesim")
}

// TestMainIsWiring: main.go stays wiring (at most 150 lines) and no
// function of package main grows past 60 lines (issue 15 §5).
func TestMainIsWiring(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("main.go")
	require.NoError(t, err)
	assert.LessOrEqual(t, strings.Count(string(src), "\n"), 150, "main.go lines")
	p, err := build.Default.ImportDir(".", 0)
	require.NoError(t, err)
	fset := token.NewFileSet()
	for _, name := range p.GoFiles {
		f, err := parser.ParseFile(fset, name, nil, 0)
		require.NoError(t, err)
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok {
				lines := fset.Position(fd.End()).Line - fset.Position(fd.Pos()).Line + 1
				assert.LessOrEqual(t, lines, 60, "%s: %s", name, fd.Name.Name)
			}
		}
	}
}
