/** What `dmasim --help` prints after the commands: examples and the exit status contract (DESIGN, CLI). */
export const HELP_FOOTER = `
Examples:
  dmasim boards                          list the example boards
  dmasim run rpi4                        boot the Raspberry Pi 4 example board and report
  dmasim run ./my-board.yaml --json      a board file (relative to this directory), JSON report
  dmasim run juno-r1 --trace t.json      record every ordering decision, then: dmasim replay t.json
  dmasim explore juno-r1 --orders all    every probe order, grouped by outcome
  dmasim validate my-board.yaml          every problem in the file, with line and path

A board is a .yaml, .json or .ts file, or the name of an example board.

Exit status:
  0  the run completed, even when the simulated kernel reported problems (see the report)
  1  the board or the arguments are invalid; the reason is on stderr, one line per problem
`;
