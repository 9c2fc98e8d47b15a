/// Entry point of the `testbridge` executable.
public enum BridgeCLI {
  public static func main() async {
  }
}
