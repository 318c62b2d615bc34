// composecheck loads a Compose file the way `docker compose config` does (compose-go: the
// Compose Specification's JSON schema, interpolation, normalisation and consistency checks)
// and prints the resolved model, or the first problem and exit status 1. It stands in for
// `docker compose config` on machines without the Docker Compose plugin.
//
//	composecheck -env-file deploy/compose/.env.example deploy/compose/compose.yaml
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	envFile := flag.String("env-file", "", "the .env file to interpolate with")
	quiet := flag.Bool("quiet", false, "print nothing on success")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: composecheck [-env-file FILE] [-quiet] compose.yaml")
		os.Exit(2)
	}
	path, err := filepath.Abs(flag.Arg(0))
	if err != nil {
		fail(err)
	}
	options := []cli.ProjectOptionsFn{
		cli.WithWorkingDirectory(filepath.Dir(path)),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
		cli.WithName("clearance"),
	}
	if *envFile != "" {
		options = append(options, cli.WithEnvFiles(*envFile), cli.WithDotEnv)
	}
	projectOptions, err := cli.NewProjectOptions([]string{path}, options...)
	if err != nil {
		fail(err)
	}
	project, err := projectOptions.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalYAML()
	if err != nil {
		fail(err)
	}
	if !*quiet {
		os.Stdout.Write(out)
	}
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "compose file invalid:", err)
	os.Exit(1)
}
