package stripe

import (
	"os/exec"
	"syscall"
)

// setDeathSignal kills stripe-mock if the test binary dies without running
// its cleanups (a panic or -timeout).
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
