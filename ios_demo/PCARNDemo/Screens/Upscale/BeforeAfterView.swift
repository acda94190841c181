import SwiftUI

/// The upscaled image over the photo, split by a divider the slider moves: upscaled on the left,
/// the photo on the right, drawn without smoothing so its pixels show. Pinch and drag zoom both
/// alike; a double tap resets.
struct BeforeAfterView: View {
    let before: CGImage
    let after: CGImage

    @State private var split = 0.5
    @State private var zoom: CGFloat = 1
    @State private var offset: CGSize = .zero
    @GestureState private var pinch: CGFloat = 1
    @GestureState private var drag: CGSize = .zero

    private static let maxZoom: CGFloat = 8

    var body: some View {
        VStack(spacing: 8) {
            GeometryReader { geometry in
                let width = geometry.size.width
                ZStack(alignment: .leading) {
                    zoomed(Image(decorative: before, scale: 1).resizable().interpolation(.none), in: geometry.size)
                    zoomed(Image(decorative: after, scale: 1).resizable(), in: geometry.size)
                        .mask(alignment: .leading) { Rectangle().frame(width: width * split) }
                    Rectangle()
                        .fill(.white)
                        .frame(width: 2)
                        .offset(x: width * split - 1)
                        .shadow(radius: 1)
                }
                .contentShape(Rectangle())
                .gesture(zoomAndPan)
                .onTapGesture(count: 2) {
                    zoom = 1
                    offset = .zero
                }
            }
            .aspectRatio(CGFloat(after.width) / CGFloat(after.height), contentMode: .fit)
            .clipShape(RoundedRectangle(cornerRadius: 8))
            Slider(value: $split) {
                Text("Divider")
            } minimumValueLabel: {
                Text("Photo").font(.caption)
            } maximumValueLabel: {
                Text("Upscaled").font(.caption)
            }
        }
    }

    private func zoomed(_ image: Image, in size: CGSize) -> some View {
        image
            .scaledToFit()
            .scaleEffect(zoom * pinch)
            .offset(x: offset.width + drag.width, y: offset.height + drag.height)
            .frame(width: size.width, height: size.height)
            .clipped()
    }

    private var zoomAndPan: some Gesture {
        let magnify = MagnificationGesture()
            .updating($pinch) { value, state, _ in state = value }
            .onEnded { value in zoom = min(max(zoom * value, 1), Self.maxZoom) }
        let pan = DragGesture()
            .updating($drag) { value, state, _ in state = value.translation }
            .onEnded { value in
                offset.width += value.translation.width
                offset.height += value.translation.height
            }
        return magnify.simultaneously(with: pan)
    }
}
