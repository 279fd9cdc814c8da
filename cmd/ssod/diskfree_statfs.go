//go:build linux || darwin || dragonfly || freebsd

package main

import "syscall"

// freeDisk returns the bytes an unprivileged process may still write on the
// file system that holds dir.
func freeDisk(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return uint64(st.Bavail) * uint64(st.Bsize), nil
}

// canCheckDisk says whether freeDisk works here.
const canCheckDisk = true
