// Package safefile reads the small files a user names (the configuration
// file, secret files, TLS files, the admin token file) so that a wrong path
// fails fast instead of hanging or exhausting memory: only regular files are
// read, opening never blocks (a named pipe is refused, not waited on), the
// size is capped, and the whole read is bounded in time.
//
// It imports nothing of this module, so every package may use it.
package safefile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
	"time"
)

// MaxSize is the default size cap of ReadFile: 4 MiB, far above any
// configuration, key, token or certificate bundle, far below what hurts.
const MaxSize = 4 << 20

// Timeout bounds one ReadFile, opening included. A local regular file is
// read in microseconds; only a hung network file system comes near it.
const Timeout = 10 * time.Second

// ErrNotRegular is wrapped by the error for a path that is not a regular
// file (after following symbolic links): a named pipe, a device, a socket.
var ErrNotRegular = errors.New("not a regular file")

// ErrTooLarge is wrapped by the error for a file above the size cap.
var ErrTooLarge = errors.New("file is too large")

// ErrTimeout is wrapped by the error for a read that did not finish in time.
var ErrTimeout = errors.New("reading the file timed out")

// ReadFile reads the regular file name, at most MaxSize bytes, within
// Timeout. Errors are *fs.PathError (Op "read" for the checks of this
// package) and never contain the file's content.
func ReadFile(name string) ([]byte, error) {
	return ReadFileLimit(name, MaxSize, Timeout)
}

// ReadFileLimit is ReadFile with another size cap and time bound. A read
// that times out leaves its goroutine to finish (or block) alone; the file
// is closed when it does.
func ReadFileLimit(name string, maxSize int64, timeout time.Duration) ([]byte, error) {
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := read(name, maxSize)
		done <- result{b, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-done:
		return r.b, r.err
	case <-t.C:
		return nil, &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w after %s", ErrTimeout, timeout)}
	}
}

// openFile is os.OpenFile; tests replace it to simulate a hung file system.
var openFile = os.OpenFile

func read(name string, maxSize int64) ([]byte, error) {
	// Stat first so that the common mistakes are named before any open;
	// the fstat below is what counts (the path may change in between).
	fi, err := os.Stat(name)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			pe.Op = "open" // what the user asked for, as os.ReadFile says it
		}
		return nil, err
	}
	if err := checkRegular(name, fi, maxSize); err != nil {
		return nil, err
	}
	// O_NONBLOCK: opening a FIFO that was swapped in after the Stat returns
	// at once instead of waiting for a writer. Regular files ignore it.
	f, err := openFile(name, os.O_RDONLY|nonBlock, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close() //nolint:errcheck // read-only file: Close reports nothing useful
	if fi, err = f.Stat(); err != nil {
		return nil, err
	}
	if err := checkRegular(name, fi, maxSize); err != nil {
		return nil, err
	}
	b, err := io.ReadAll(io.LimitReader(f, maxSize+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > maxSize { // it grew since the fstat
		return nil, tooLarge(name, maxSize)
	}
	return b, nil
}

func checkRegular(name string, fi fs.FileInfo, maxSize int64) error {
	m := fi.Mode()
	switch {
	case m.IsDir():
		return &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	case !m.IsRegular():
		return &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(m))}
	case fi.Size() > maxSize:
		return tooLarge(name, maxSize)
	}
	return nil
}

func tooLarge(name string, maxSize int64) error {
	return &fs.PathError{Op: "read", Path: name, Err: fmt.Errorf("%w: larger than %s", ErrTooLarge, formatSize(maxSize))}
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.Type().String()
}

// formatSize prints a cap as "4 MiB" or "1000 bytes".
func formatSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
