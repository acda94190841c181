import PCARNCore
import SwiftUI

struct RootView: View {
    let catalog: ModelCatalog

    var body: some View {
        if catalog.models.isEmpty {
            NoModelsView(problems: catalog.problems)
        } else {
            TabView {
                UpscaleView(catalog: catalog)
                    .tabItem { Label("Upscale", systemImage: "wand.and.stars") }
                BenchmarkView(models: catalog.models)
                    .tabItem { Label("Benchmark", systemImage: "stopwatch") }
            }
        }
    }
}
