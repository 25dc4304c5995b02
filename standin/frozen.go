package main

import (
	"os"
	"path/filepath"
)

// unpack mimics the first step of a PyInstaller one-file bootloader: a fresh _MEIxxxxxx directory under
// TMPDIR (TEMP/TMP on Windows) holding the program. A TMPDIR that is missing, unwritable or mounted noexec
// makes the start fail, as it does the real thing. Returns the directory (to remove) and the program's copy.
func unpack() (dir string, program string, err error) {
	dir, err = os.MkdirTemp(os.TempDir(), "_MEI")
	if err != nil {
		return filepath.Join(os.TempDir(), "_MEI*"), "", err
	}
	self, err := os.Executable()
	if err != nil {
		return dir, "", err
	}
	program = filepath.Join(dir, filepath.Base(self))
	if err := copyFile(self, program); err != nil {
		return dir, "", err
	}
	return dir, program, os.Chmod(program, 0o700)
}
