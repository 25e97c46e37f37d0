//go:build !linux

package stripe

import "os/exec"

// setDeathSignal does nothing where the OS has no parent-death signal; the
// tests' cleanups kill stripe-mock.
func setDeathSignal(*exec.Cmd) {}
