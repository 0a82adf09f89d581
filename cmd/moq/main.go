// Command moq is moqgo's command-line tool: it runs a relay and publishes,
// subscribes to and inspects MoQ tracks. Run `moq help` for the commands.
package main

import (
	"fmt"
	"os"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "moq:", err)
		os.Exit(1)
	}
}
