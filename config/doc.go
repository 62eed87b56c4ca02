// Package config reads Outflow's YAML configuration: embedded defaults
// (defaults.yaml, printed by `outflow config`), overlaid by the user's file,
// overlaid by command-line flags. Errors name the file, the line and the
// key. It only parses and validates; the subcommands act on the result.
package config
