//go:build !(linux || darwin || dragonfly || freebsd)

package main

import "errors"

func freeDisk(string) (uint64, error) { return 0, errors.ErrUnsupported }

// canCheckDisk says whether freeDisk works here: /readyz then does not
// check the disk.
const canCheckDisk = false
