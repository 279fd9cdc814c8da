//go:build linux || darwin || dragonfly || freebsd || netbsd || openbsd

package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// lockDatabase makes this process the one `ssod serve` on the SQLite file at
// path, or says which process already is: each server keeps its own read
// cache, so a second one would serve what the first has changed or deleted.
// The lock is a flock on a file of its own beside the database (PATH-lock),
// never on the database file: SQLite locks that with fcntl, whose locks a
// process loses when it closes any descriptor of the file. The kernel drops
// the flock when the process ends, however it ends; release also empties the
// pid the file holds.
func lockDatabase(path string) (release func(), err error) {
	name := lockPath(path)
	f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", name, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		defer f.Close()
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("lock %s: %w", name, err)
		}
		holder := "another process"
		if b, _ := os.ReadFile(name); len(b) > 0 {
			if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil {
				holder = fmt.Sprintf("process %d", pid)
			}
		}
		return nil, fmt.Errorf("%s is in use by another ssod serve (%s holds %s); run one ssod serve per SQLite file", path, holder, name)
	}
	// Written after the lock is held, so the pid a refused server reads is
	// the holder's (or nothing, in the moment before it is written).
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() {
		// The file stays: removing it would let a server that opened it
		// just now lock a file no longer at that path, beside a third.
		_ = f.Truncate(0)
		_ = f.Close()
	}, nil
}

// lockPath names the lock file of the database at path, after following
// symbolic links, so that two names of one database share one lock.
func lockPath(path string) string {
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return real + "-lock"
	}
	if dir, err := filepath.EvalSymlinks(filepath.Dir(path)); err == nil {
		return filepath.Join(dir, filepath.Base(path)) + "-lock"
	}
	return path + "-lock"
}
