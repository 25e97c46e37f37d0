package stripemock

import (
	"os/exec"
	"syscall"
)

// setDeathSignal kills stripe-mock if the test binary dies without running
// its cleanups.
func setDeathSignal(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
