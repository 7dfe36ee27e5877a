import Tauri
import UIKit
import WebKit

struct ShareArgs: Decodable {
  var path: String?
  var mime: String?
  var text: String?
  var title: String?
}

/// The phone's own side of Mingpian (see `src/lib.rs`). UIKit is touched on the main thread only.
class DevicePlugin: Plugin {
  private var savedBrightness: CGFloat?

  /// While the user shows their QR code: no auto-lock, full brightness (the user's own level is
  /// kept to give back).
  @objc public func keepAwake(_ invoke: Invoke) {
    DispatchQueue.main.async {
      if self.savedBrightness == nil {
        self.savedBrightness = UIScreen.main.brightness
      }
      UIApplication.shared.isIdleTimerDisabled = true
      UIScreen.main.brightness = 1.0
      invoke.resolve()
    }
  }

  /// Puts back the brightness the user had and lets the screen lock again.
  @objc public func release(_ invoke: Invoke) {
    DispatchQueue.main.async {
      if let brightness = self.savedBrightness {
        UIScreen.main.brightness = brightness
        self.savedBrightness = nil
      }
      UIApplication.shared.isIdleTimerDisabled = false
      invoke.resolve()
    }
  }

  /// The share sheet for a file under the app's cache `share/` folder and/or a text.
  @objc public func share(_ invoke: Invoke) throws {
    let args = try invoke.parseArgs(ShareArgs.self)
    var items: [Any] = []
    if let path = args.path {
      // Only `{app cache}/share/{one folder per share}/{file}` (see files.rs): the app cache is
      // Caches/{bundle id}; symlinks are resolved before comparing.
      let file = URL(fileURLWithPath: path).resolvingSymlinksInPath()
      let caches = FileManager.default.urls(for: .cachesDirectory, in: .userDomainMask)[0]
      let shareDir = caches.appendingPathComponent(Bundle.main.bundleIdentifier ?? "", isDirectory: true)
        .appendingPathComponent("share", isDirectory: true).resolvingSymlinksInPath()
      guard file.deletingLastPathComponent().deletingLastPathComponent().path == shareDir.path else {
        invoke.reject("only files in the share folder can be shared")
        return
      }
      items.append(file)
    }
    if let text = args.text {
      items.append(text)
    }
    DispatchQueue.main.async {
      guard let presenter = self.manager.viewController else {
        invoke.reject("no window to show the share sheet from")
        return
      }
      let sheet = UIActivityViewController(activityItems: items, applicationActivities: nil)
      // On iPad the sheet is a popover and needs an anchor.
      if let popover = sheet.popoverPresentationController {
        popover.sourceView = presenter.view
        popover.sourceRect = CGRect(
          x: presenter.view.bounds.midX, y: presenter.view.bounds.midY, width: 0, height: 0)
        popover.permittedArrowDirections = []
      }
      presenter.present(sheet, animated: true, completion: nil)
      invoke.resolve()
    }
  }

  /// One short confirming tap.
  @objc public func haptic(_ invoke: Invoke) {
    DispatchQueue.main.async {
      UINotificationFeedbackGenerator().notificationOccurred(.success)
      invoke.resolve()
    }
  }
}

@_cdecl("init_plugin_mingpian_device")
func initPlugin() -> Plugin {
  return DevicePlugin()
}
