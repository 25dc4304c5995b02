package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The shared corpus (test/fixtures/env-files/corpus.json): the service host sets exactly the variables
// systemd's EnvironmentFile= sets for each file, as the launcher does (test/env-file.test.ts) and systemd
// itself does (test/e2e/env-file.test.ts).
func TestEnvFileCorpus(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "test", "fixtures", "env-files", "corpus.json"))
	if err != nil {
		t.Fatal(err)
	}
	var corpus struct {
		Cases []struct {
			Name    string            `json:"name"`
			Content string            `json:"content"`
			Env     map[string]string `json:"env"`
		} `json:"cases"`
	}
	if err := json.Unmarshal(raw, &corpus); err != nil {
		t.Fatal(err)
	}
	if len(corpus.Cases) < 10 {
		t.Fatalf("corpus has %d cases", len(corpus.Cases))
	}
	dir := t.TempDir()
	for _, c := range corpus.Cases {
		file := filepath.Join(dir, c.Name+".env")
		if err := os.WriteFile(file, []byte(c.Content), 0o600); err != nil {
			t.Fatal(err)
		}
		env, _, err := readEnvFile(file)
		if err != nil {
			t.Fatalf("%s: %v", c.Name, err)
		}
		// Later assignments win, as in systemd and the shell.
		got := map[string]string{}
		for _, kv := range env {
			i := strings.IndexByte(kv, '=')
			got[kv[:i]] = kv[i+1:]
		}
		if !reflect.DeepEqual(got, c.Env) {
			t.Errorf("%s: got %q, want %q", c.Name, got, c.Env)
		}
	}
}

func TestEnvFileSkipsInvalidNamesWithoutTheirValues(t *testing.T) {
	env, skipped := parseEnvFile("app.env", []byte("\ufeffA=secret-one\nexport B=secret-two\nC=ok\n"))
	if !reflect.DeepEqual(env, []string{"C=ok"}) {
		t.Errorf("env = %q", env)
	}
	want := []string{`app.env:1: ignoring an assignment to "\ufeffA": not a valid variable name`, `app.env:2: ignoring an assignment to "export B": not a valid variable name`}
	if !reflect.DeepEqual(skipped, want) {
		t.Errorf("skipped = %q, want %q", skipped, want)
	}
	for _, s := range skipped {
		if strings.Contains(s, "secret") {
			t.Errorf("a skipped line's value reached the log: %s", s)
		}
	}
}

func TestMissingEnvFileIsNoError(t *testing.T) {
	env, skipped, err := readEnvFile(filepath.Join(t.TempDir(), "missing.env"))
	if err != nil || env != nil || skipped != nil {
		t.Errorf("got %q %q %v", env, skipped, err)
	}
}
