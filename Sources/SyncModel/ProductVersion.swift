/// The version of CaseSync that `casesync --version` and `casesyncd --version` print: one
/// number for the whole package, since the tools and the protocol are released together.
public enum ProductVersion {
    /// The release number, printed as is by both `--version` flags.
    public static let current = "0.3.0"
}
