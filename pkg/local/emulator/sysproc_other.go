//go:build unix && !linux

package emulator

import "syscall"

// sysProcAttr puts each child in its own process group. Only Linux has a
// parent-death signal, so elsewhere children outlive a parent that dies
// without calling Stack.Close.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
