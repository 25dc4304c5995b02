package main

import (
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"testing"
)

func TestClearStaleUnpackDirs(t *testing.T) {
	own := t.TempDir()
	shared := t.TempDir()
	for _, d := range []string{filepath.Join(own, "_MEI123456", "lib"), filepath.Join(own, "_MEIabcdef"), filepath.Join(shared, "_MEI999999")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(own, "keep.txt"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}

	// TEMP and TMP name the same private folder (as the MSI sets them); a shared TMPDIR-like variable is ignored.
	removed := clearStaleUnpackDirs([]string{"STIGMER_LOG_FORMAT=json", "TEMP=" + own, "tmp=" + own, "TMPDIR=" + shared})
	sort.Strings(removed)
	want := []string{filepath.Join(own, "_MEI123456"), filepath.Join(own, "_MEIabcdef")}
	if !reflect.DeepEqual(removed, want) {
		t.Fatalf("removed %v, want %v", removed, want)
	}
	left, _ := os.ReadDir(own)
	if len(left) != 1 || left[0].Name() != "keep.txt" {
		t.Fatalf("left in the service's folder: %v, want only keep.txt", left)
	}
	if _, err := os.Stat(filepath.Join(shared, "_MEI999999")); err != nil {
		t.Fatalf("a folder outside the service's TEMP/TMP was touched: %v", err)
	}
}

func TestClearStaleUnpackDirsWithoutOwnTemp(t *testing.T) {
	if removed := clearStaleUnpackDirs([]string{"A=b", "TEMP="}); len(removed) != 0 {
		t.Fatalf("removed %v without a TEMP/TMP of the service", removed)
	}
}
