package main

import (
	"errors"
	"fmt"
	"os"
)

// readEnvFile reads the env file with systemd's EnvironmentFile= rules, exactly as the launchd/Homebrew
// launcher does (src/render/launcher.ts) and as documented in the file's header (templates/msi/env-file.hbs):
// "#" and ";" start comment lines; whitespace around names and unquoted values is trimmed; '...' is literal;
// "..." keeps a backslash except before " \ ` $ and a newline; a backslash outside quotes escapes the next
// byte and at the end of a line joins the next line; CR ends a line like LF. An assignment to an invalid
// name ("export X", a name after a UTF-8 byte order mark) is skipped and reported in `skipped` (systemd
// skips it too); a line without "=" is ignored. A missing file is not an error.
func readEnvFile(path string) (env []string, skipped []string, err error) {
	if path == "" {
		return nil, nil, nil
	}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	env, skipped = parseEnvFile(path, data)
	return env, skipped, nil
}

// validEnvName: the names systemd accepts from an env file ([A-Za-z_][A-Za-z0-9_]*).
func validEnvName(k string) bool {
	if k == "" || (k[0] >= '0' && k[0] <= '9') {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			return false
		}
	}
	return true
}

// parseEnvFile is systemd's parse_env_file_internal state machine, byte by byte.
func parseEnvFile(name string, data []byte) (env []string, skipped []string) {
	const (
		preKey = iota
		key
		preValue
		value
		valueEscape
		singleQuote
		doubleQuote
		doubleQuoteEscape
		comment
	)
	state := preKey
	var k, kw, v, vw []byte
	line := 1
	set := func() {
		if validEnvName(string(k)) {
			env = append(env, string(k)+"="+string(v))
		} else {
			skipped = append(skipped, fmt.Sprintf("%s:%d: ignoring an assignment to %q: not a valid variable name", name, line, string(k)))
		}
		k, kw, v, vw = nil, nil, nil, nil
	}
	isNL := func(c byte) bool { return c == '\n' || c == '\r' }
	isBlank := func(c byte) bool { return c == ' ' || c == '\t' }
	for _, c := range data {
		switch state {
		case preKey:
			switch {
			case c == '#' || c == ';':
				state = comment
			case isBlank(c) || isNL(c):
			default:
				state, k, kw = key, []byte{c}, nil
			}
		case key:
			switch {
			case isNL(c):
				state, k, kw = preKey, nil, nil
			case c == '=':
				state, v, vw = preValue, []byte{}, nil
			case isBlank(c):
				kw = append(kw, c)
			default:
				k = append(append(k, kw...), c)
				kw = nil
			}
		case preValue:
			switch {
			case isNL(c):
				set()
				state = preKey
			case c == '\'':
				state = singleQuote
			case c == '"':
				state = doubleQuote
			case c == '\\':
				state = valueEscape
			case isBlank(c):
			default:
				state, v = value, append(v, c)
			}
		case value:
			switch {
			case isNL(c):
				set()
				state = preKey
			case c == '\\':
				state, v, vw = valueEscape, append(v, vw...), nil
			case isBlank(c):
				vw = append(vw, c)
			default:
				v = append(append(v, vw...), c)
				vw = nil
			}
		case valueEscape:
			state = value
			if !isNL(c) {
				v = append(v, c)
			}
		case singleQuote:
			if c == '\'' {
				state = preValue
			} else {
				v = append(v, c)
			}
		case doubleQuote:
			switch c {
			case '"':
				state = preValue
			case '\\':
				state = doubleQuoteEscape
			default:
				v = append(v, c)
			}
		case doubleQuoteEscape:
			state = doubleQuote
			switch c {
			case '"', '\\', '`', '$':
				v = append(v, c)
			case '\n':
			default:
				v = append(v, '\\', c)
			}
		case comment:
			if isNL(c) {
				state = preKey
			}
		}
		if c == '\n' {
			line++
		}
	}
	switch state {
	case preValue, value, valueEscape, singleQuote, doubleQuote, doubleQuoteEscape:
		set()
	}
	return env, skipped
}

// envFileDoc is the syntax summary the host logs with a skipped line.
const envFileDoc = "the env file uses systemd's EnvironmentFile= syntax: NAME=value lines, no \"export\", names of letters, digits and _"
