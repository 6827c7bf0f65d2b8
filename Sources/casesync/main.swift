import CaseSyncCLI
import Foundation

// Thin shell: all behaviour lives in CaseSyncCLI, which tests run in-process too.
exit(await CaseSyncCommand.main(arguments: Array(CommandLine.arguments.dropFirst())))
