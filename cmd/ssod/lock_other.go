//go:build !(linux || darwin || dragonfly || freebsd || netbsd || openbsd)

package main

// lockDatabase does nothing where there is no flock: there, nothing stops a
// second `ssod serve` on one SQLite file, and the README's rule of one server
// per file is the operator's to keep.
func lockDatabase(string) (release func(), err error) { return func() {}, nil }
