package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkScriptEnv is a PATH with only what deploy/check.sh needs to run
// (bash, a few coreutils, go) plus recording shims of everything it could
// install with: apt-get, sudo, npm, helm, and `go install`.
func checkScriptEnv(t *testing.T) (env []string, calls string) {
	t.Helper()
	bash, err := exec.LookPath("bash")
	if err != nil {
		t.Skip("no bash")
	}
	goBin, err := exec.LookPath("go")
	require.NoError(t, err)
	bin := t.TempDir()
	calls = filepath.Join(t.TempDir(), "calls")
	for _, tool := range []string{"bash", "cat", "grep", "sort", "mktemp", "rm", "mkdir", "id", "dirname"} {
		p, err := exec.LookPath(tool)
		require.NoError(t, err, tool)
		require.NoError(t, os.Symlink(p, filepath.Join(bin, tool)))
	}
	record := "#!" + bash + "\necho \"${0##*/} $*\" >>" + calls + "\nexit 1\n"
	for _, tool := range []string{"apt-get", "sudo", "npm", "helm"} {
		require.NoError(t, os.WriteFile(filepath.Join(bin, tool), []byte(record), 0o755))
	}
	goShim := "#!" + bash + "\nif [ \"$1\" = install ]; then echo \"go $*\" >>" + calls + "; exit 1; fi\nexec " + goBin + " \"$@\"\n"
	require.NoError(t, os.WriteFile(filepath.Join(bin, "go"), []byte(goShim), 0o755))
	home := t.TempDir()
	env = []string{"PATH=" + bin, "HOME=" + home, "GOPATH=" + filepath.Join(home, "go"), "GOFLAGS=-mod=mod",
		"DEPLOY_CHECK_SKIP=e2e image validate"}
	// The shims stand for tools the machine lacks: hide the fake helm.
	require.NoError(t, os.Remove(filepath.Join(bin, "helm")))
	return env, calls
}

// TestCheckScriptInstallsNothingByDefault: a plain `make test` on a machine
// without the optional tools installs nothing and says which checks it
// skipped and why; DEPLOY_CHECK_INSTALL=1 (CI) tries to install them and
// fails when it cannot.
func TestCheckScriptInstallsNothingByDefault(t *testing.T) {
	env, calls := checkScriptEnv(t)
	cmd := exec.Command("bash", "check.sh")
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	recorded, _ := os.ReadFile(calls)
	assert.Empty(t, string(recorded), "a plain run installs nothing")
	for _, want := range []string{
		"SKIPPED promtool (rules, rule unit tests, compose config, golden /metrics): promtool is not installed",
		"SKIPPED helm lint and template: helm is not installed",
		"SKIPPED Dockerfile lint: the npm linters",
		"SKIPPED shellcheck: shellcheck is not installed",
		"SKIPPED prometheus-e2e: DEPLOY_CHECK_SKIP",
		"SKIPPED docker/build-local.sh: DEPLOY_CHECK_SKIP",
		"SKIPPED deploy/validate: DEPLOY_CHECK_SKIP",
		"SKIPPED status page in headless Chromium: chromium is not installed",
		"deploy/check.sh: the checks that ran passed; SKIPPED 8:",
	} {
		assert.Contains(t, string(out), want)
	}

	cmd = exec.Command("bash", "check.sh")
	cmd.Env = append(env, "DEPLOY_CHECK_INSTALL=1")
	out, err = cmd.CombinedOutput()
	require.Error(t, err, "the install failed, so the run fails: %s", out)
	recorded, _ = os.ReadFile(calls)
	assert.Contains(t, string(recorded), "apt-get update", "CI installs what is missing")
	assert.NotContains(t, string(out), "checks that ran passed")
	assert.Contains(t, string(out), "check: apt-get install")
	assert.Regexp(t, `check: apt-get install [^\n]*\bchromium\b`, string(out), "CI installs chromium for the status page check")
}
