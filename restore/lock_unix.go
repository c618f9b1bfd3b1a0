//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package restore

import (
	"errors"
	"os"
	"syscall"
)

func lockSupported() error { return nil }

// tryLock takes an exclusive flock without blocking; ok is false when another holder has it.
func tryLock(f *os.File) (bool, error) {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		case errors.Is(err, syscall.EINTR):
			continue
		default:
			return false, err
		}
	}
}

func unlockFile(f *os.File) { _ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }
