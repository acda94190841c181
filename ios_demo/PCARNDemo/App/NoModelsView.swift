import PCARNCore
import SwiftUI

/// Shown when the build has no model the app can run: how to install one.
struct NoModelsView: View {
    let problems: [String]

    var body: some View {
        NavigationStack {
            List {
                Section {
                    Text("This build has no Core ML model. In the pcarn-mobile checkout, run:")
                    Text(ModelCatalog.installCommand)
                        .font(.system(.callout, design: .monospaced))
                        .textSelection(.enabled)
                    Text("It copies the exported image-I/O packages and their sidecars into "
                        + "ios_demo/PCARNDemo/Models. Build and run again: Xcode compiles every package "
                        + "there into the app.")
                }
                if !problems.isEmpty {
                    Section("Installed but not usable") {
                        ForEach(problems, id: \.self) { StatusLineView(line: .error($0)) }
                    }
                }
            }
            .navigationTitle("No models")
        }
    }
}
