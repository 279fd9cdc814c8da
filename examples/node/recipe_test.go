// Package noderecipe runs the Node recipe of the README ("A Node test
// suite") as part of `go test ./...`: it builds ssod the documented way and
// runs `node --test` in this folder against it.
package noderecipe

import (
	"context"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/ssod/ssod/internal/testenv"
)

// missing skips, saying what to install, or fails under CI=true, where the
// recipe must run.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if testenv.CI() {
		t.Fatalf("under CI=true the Node recipe must run: "+format, args...)
	}
	t.Skipf("Node recipe skipped: "+format, args...)
}

// readInputs opens every file the run depends on: go test caches a passing
// result until a file the test process itself opened changes, and neither
// the ssod build nor node run in this process.
func readInputs(t *testing.T) {
	t.Helper()
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "node_modules" || d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		switch filepath.Ext(path) {
		case ".go", ".sql", ".mod", ".sum", ".js", ".json":
			_, err = os.ReadFile(path)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestNodeRecipe(t *testing.T) {
	readInputs(t)
	node, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node is not installed (install Node.js 18 or newer)")
	}
	if _, err := os.Stat("node_modules/@sendgrid/client"); err != nil {
		npm, err := exec.LookPath("npm")
		if err != nil {
			missing(t, "npm is not installed, and examples/node has no node_modules")
		}
		// .ci/run installs it the same way beforehand.
		if out, err := exec.Command(npm, "ci", "--no-audit", "--no-fund").CombinedOutput(); err != nil {
			missing(t, "npm ci in examples/node failed (offline?): %v\n%s", err, out)
		}
	}
	bin := filepath.Join(t.TempDir(), "ssod")
	build := exec.Command("go", "build", "-o", bin, "./cmd/ssod")
	build.Dir = "../.."
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build ssod: %v\n%s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test")
	cmd.Env = append(os.Environ(), "SSOD_BIN="+bin)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node --test: %v\n%s", err, out)
	}
	t.Logf("node --test:\n%s", out)
}
