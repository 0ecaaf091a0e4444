//go:build linux

package emulator

import "syscall"

// sysProcAttr puts each child in its own process group and asks the kernel
// to send it SIGTERM if we die, so emulators do not outlive a crashed or
// killed parent (a test binary hitting its timeout, say).
//
// Caveat: Linux ties Pdeathsig to the thread that started the child, not
// to the process. Go only ends an OS thread when a goroutine exits while
// locked to it with runtime.LockOSThread; nothing here does that, so in
// practice the signal arrives when the parent process exits. If some other
// code in the process exits a locked goroutine on the same thread that ran
// cmd.Start, the children would get SIGTERM early and Stack.Close would
// report that they had already exited.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Setpgid:   true,
		Pdeathsig: syscall.SIGTERM,
	}
}
