package safefile

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hangGuard is how long a read may take before the test calls it a hang;
// every case below answers in microseconds when the code is right.
const hangGuard = 5 * time.Second

// readOrHang runs f and fails the test instead of hanging with it.
func readOrHang(t *testing.T, f func() ([]byte, error)) ([]byte, error) {
	t.Helper()
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := f()
		done <- result{b, err}
	}()
	select {
	case r := <-done:
		return r.b, r.err
	case <-time.After(hangGuard):
		t.Fatal("the read blocked")
		return nil, nil
	}
}

func mkfifo(t *testing.T, dir string) string {
	t.Helper()
	p := filepath.Join(dir, "fifo")
	require.NoError(t, syscall.Mkfifo(p, 0o600))
	return p
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, size int) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, []byte(strings.Repeat("k", size)), 0o600))
		return p
	}
	small := write("small", 10)
	exact := write("exact", MaxSize)
	over := write("over", MaxSize+1)
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink(small, link))
	fifo := mkfifo(t, dir)
	fifoLink := filepath.Join(dir, "fifo-link")
	require.NoError(t, os.Symlink(fifo, fifoLink))

	for _, tc := range []struct {
		name, path string
		size       int
		is         error
		msg        string
	}{
		{name: "regular file", path: small, size: 10},
		{name: "exactly the cap", path: exact, size: MaxSize},
		{name: "symbolic link to a regular file (Kubernetes secrets)", path: link, size: 10},
		{name: "one byte over the cap", path: over, is: ErrTooLarge, msg: "read " + over + ": file is too large: larger than 4 MiB"},
		{name: "named pipe", path: fifo, is: ErrNotRegular, msg: "read " + fifo + ": not a regular file (a named pipe)"},
		{name: "link to a named pipe", path: fifoLink, is: ErrNotRegular, msg: "read " + fifoLink + ": not a regular file (a named pipe)"},
		{name: "/dev/zero", path: "/dev/zero", is: ErrNotRegular, msg: "read /dev/zero: not a regular file (a character device)"},
		{name: "directory", path: dir, is: syscall.EISDIR, msg: "read " + dir + ": is a directory"},
		{name: "missing", path: filepath.Join(dir, "missing"), is: fs.ErrNotExist, msg: "open " + filepath.Join(dir, "missing") + ": no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := readOrHang(t, func() ([]byte, error) { return ReadFile(tc.path) })
			if tc.is == nil {
				require.NoError(t, err)
				assert.Len(t, b, tc.size)
				return
			}
			require.ErrorIs(t, err, tc.is)
			assert.Nil(t, b)
			var pe *fs.PathError
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, tc.path, pe.Path)
			if tc.msg != "" {
				assert.Equal(t, tc.msg, err.Error())
			}
		})
	}
}

// TestReadFileLimitSmallCap: the cap is exact and named in the error.
func TestReadFileLimitSmallCap(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(p, []byte("12345678901"), 0o600))
	_, err := ReadFileLimit(p, 10, time.Minute)
	require.ErrorIs(t, err, ErrTooLarge)
	assert.Equal(t, "read "+p+": file is too large: larger than 10 bytes", err.Error())
}

// The tests below replace openFile, so they do not run in parallel.

// TestReadFileSwappedForAFIFO: a path that is a regular file at the Stat
// and a FIFO at the open neither blocks in open (O_NONBLOCK) nor is read
// (the fstat check).
func TestReadFileSwappedForAFIFO(t *testing.T) { //nolint:paralleltest // replaces openFile
	dir := t.TempDir()
	regular := filepath.Join(dir, "regular")
	require.NoError(t, os.WriteFile(regular, []byte("key"), 0o600))
	fifo := mkfifo(t, dir)
	openFile = func(_ string, flag int, perm os.FileMode) (*os.File, error) { return os.OpenFile(fifo, flag, perm) }
	t.Cleanup(func() { openFile = os.OpenFile })

	_, err := readOrHang(t, func() ([]byte, error) { return ReadFile(regular) })
	require.ErrorIs(t, err, ErrNotRegular)
	assert.Equal(t, "read "+regular+": not a regular file (a named pipe)", err.Error())
}

// TestReadFileTimeout: a read that never finishes (a hung network file
// system) returns an error after the time bound.
func TestReadFileTimeout(t *testing.T) { //nolint:paralleltest // replaces openFile
	p := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(p, []byte("key"), 0o600))
	release, released := make(chan struct{}), make(chan struct{})
	openFile = func(name string, flag int, perm os.FileMode) (*os.File, error) {
		defer close(released)
		<-release
		return os.OpenFile(name, flag, perm)
	}
	t.Cleanup(func() {
		close(release)
		<-released // the abandoned read is past openFile
		openFile = os.OpenFile
	})

	_, err := readOrHang(t, func() ([]byte, error) { return ReadFileLimit(p, MaxSize, 20*time.Millisecond) })
	require.ErrorIs(t, err, ErrTimeout)
	assert.Equal(t, "read "+p+": reading the file timed out after 20ms", err.Error())
	assert.False(t, errors.Is(err, ErrNotRegular))
}
