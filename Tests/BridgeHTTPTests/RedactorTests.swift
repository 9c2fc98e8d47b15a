import BridgeHTTP
import Testing
