package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/moqgo/moqgo/internal/wire"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "moq",
		Short:         "Media over QUIC tools: relay, publish, subscribe, inspect",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newVersionCmd())
	root.AddCommand(newRelayCmd())
	root.AddCommand(newDemoCmd())
	root.AddCommand(newPublishCmd(), newSubscribeCmd(), newInspectCmd(), newRecordCmd(), newReplayCmd())
	return root
}

func newVersionCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the moq version and the MoQ Transport versions it speaks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "moq %s\n", version)
			for _, v := range wire.SupportedVersions {
				fmt.Fprintf(out, "  MoQ Transport %v (%#08x), ALPN %q\n", v, uint32(v), wire.ALPN)
			}
			return nil
		},
	}
}
