import PCARNCore
import SwiftUI

@main
struct PCARNDemoApp: App {
    /// Read once: the bundle's models do not change while the app runs.
    private let catalog = ModelCatalog.load()

    var body: some Scene {
        WindowGroup {
            RootView(catalog: catalog)
        }
    }
}
