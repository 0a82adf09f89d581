package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/BurntSushi/toml"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envPrefix prefixes the environment variable of every flag: --cache-age is
// MOQ_CACHE_AGE.
const envPrefix = "MOQ_"

// envName returns the environment variable that sets flag name.
func envName(name string) string {
	return envPrefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// applySettings fills the flags not given on the command line from the
// environment (MOQ_*), then from the TOML config file named by the
// "config" flag (keys are flag names), so that flags beat the environment,
// which beats the file, which beats the defaults.
func applySettings(cmd *cobra.Command) error {
	fs := cmd.Flags()
	var file map[string]any
	if path, _ := fs.GetString("config"); path != "" || os.Getenv(envName("config")) != "" {
		if path == "" {
			path = os.Getenv(envName("config"))
		}
		if _, err := toml.DecodeFile(path, &file); err != nil {
			return fmt.Errorf("config file: %w", err)
		}
		for k := range file {
			if fs.Lookup(k) == nil || k == "config" {
				return fmt.Errorf("config file %s: unknown setting %q", path, k)
			}
		}
	}
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s: %w", envName(f.Name), e)
			}
			return
		}
		if v, ok := file[f.Name]; ok {
			if e := fs.Set(f.Name, fmt.Sprint(v)); e != nil {
				err = fmt.Errorf("config file setting %s: %w", f.Name, e)
			}
		}
	})
	return err
}
