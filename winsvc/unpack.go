package main

import (
	"os"
	"path/filepath"
	"strings"
)

// clearStaleUnpackDirs removes the _MEI* folders a PyInstaller one-file program left in the service's own
// temporary folder: the bootloader removes its folder only when the program exits normally, so every kill
// (the stop timeout, a crash) leaves one behind. Only TEMP/TMP set by the service's own settings (the MSI
// gives each frozen service a private folder) are cleared, never a shared one inherited from the system; the
// host runs this before it starts the program, when no program of this service is running. Returns the
// folders removed.
func clearStaleUnpackDirs(serviceEnv []string) []string {
	var removed []string
	seen := map[string]bool{}
	for _, kv := range serviceEnv {
		i := strings.IndexByte(kv, '=')
		if i <= 0 {
			continue
		}
		key := strings.ToUpper(kv[:i])
		dir := kv[i+1:]
		if (key != "TEMP" && key != "TMP") || dir == "" || seen[dir] {
			continue
		}
		seen[dir] = true
		matches, _ := filepath.Glob(filepath.Join(dir, "_MEI*"))
		for _, m := range matches {
			if err := os.RemoveAll(m); err == nil {
				removed = append(removed, m)
			}
		}
	}
	return removed
}
