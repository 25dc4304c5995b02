package main

import (
	"fmt"
	"strings"
)

// flagContract is an upstream program's command line (src/product/contract.ts): the subcommand words, then
// only the listed flags. The stand-in refuses anything else before it starts, as the real program's flag
// parser (cobra/pflag) does, so a packaged command line the real program would refuse fails every test.
type flagContract struct {
	Program string         `json:"program"`
	Version string         `json:"version"`
	Command []string       `json:"command"`
	Flags   []contractFlag `json:"flags"`
}

type contractFlag struct {
	Name   string   `json:"name"`
	Short  string   `json:"short"`
	Value  bool     `json:"value"`
	Values []string `json:"values"`
}

var boolValues = map[string]bool{"1": true, "0": true, "t": true, "f": true, "T": true, "F": true, "true": true, "false": true, "TRUE": true, "FALSE": true, "True": true, "False": true}

func (c *flagContract) flag(long, short string) *contractFlag {
	for i := range c.Flags {
		if (long != "" && c.Flags[i].Name == long) || (short != "" && c.Flags[i].Short == short) {
			return &c.Flags[i]
		}
	}
	return nil
}

// check returns the first reason the program would refuse args, in its own words, or "".
func (c *flagContract) check(args []string) string {
	commandLine := strings.Join(append([]string{c.Program}, c.Command...), " ")
	for i, word := range c.Command {
		if i >= len(args) || args[i] != word {
			got := "(nothing)"
			if i < len(args) {
				got = args[i]
			}
			return fmt.Sprintf("unknown command %q for %q", got, strings.Join(append([]string{c.Program}, c.Command[:i]...), " "))
		}
	}
	for i := len(c.Command); i < len(args); i++ {
		arg := args[i]
		var f *contractFlag
		var name string
		var value *string
		switch {
		case strings.HasPrefix(arg, "--") && len(arg) > 2:
			name = arg[2:]
			if eq := strings.IndexByte(name, '='); eq >= 0 {
				v := name[eq+1:]
				value = &v
				name = name[:eq]
			}
			if f = c.flag(name, ""); f == nil {
				return "unknown flag: --" + name
			}
		case strings.HasPrefix(arg, "-") && len(arg) > 1 && arg != "--":
			short := arg[1:2]
			if f = c.flag("", short); f == nil {
				return fmt.Sprintf("unknown shorthand flag: '%s' in %s", short, arg)
			}
			name = f.Name
			rest := arg[2:]
			if strings.HasPrefix(rest, "=") {
				v := rest[1:]
				value = &v
			} else if rest != "" {
				if !f.Value {
					return fmt.Sprintf("unknown shorthand flag: '%s' in %s", rest[:1], arg)
				}
				value = &rest
			}
		default:
			return fmt.Sprintf("unknown command %q for %q", arg, commandLine)
		}
		if f.Value && value == nil {
			if i+1 >= len(args) {
				return "flag needs an argument: --" + name
			}
			i++
			value = &args[i]
		}
		if !f.Value && value != nil && !boolValues[*value] {
			return fmt.Sprintf("invalid argument %q for \"--%s\" flag: strconv.ParseBool: parsing %q: invalid syntax", *value, name, *value)
		}
		if f.Value && len(f.Values) > 0 {
			ok := false
			for _, v := range f.Values {
				ok = ok || v == *value
			}
			if !ok {
				return fmt.Sprintf("invalid argument %q for \"--%s\" flag: %s", *value, name, "allowed values are "+strings.Join(f.Values, ", "))
			}
		}
	}
	return ""
}
