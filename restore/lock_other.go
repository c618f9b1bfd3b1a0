//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package restore

import (
	"errors"
	"os"
)

var errNoFlock = errors.New("restore: the file store needs flock(2), available on Linux and BSD systems only")

func lockSupported() error { return errNoFlock }

func tryLock(*os.File) (bool, error) { return false, errNoFlock }

func unlockFile(*os.File) {}
