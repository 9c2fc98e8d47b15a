import BridgeCLI

await BridgeCLI.main()
