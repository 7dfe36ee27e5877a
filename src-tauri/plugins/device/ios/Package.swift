// swift-tools-version:5.3
import PackageDescription

let package = Package(
  name: "tauri-plugin-mingpian-device",
  platforms: [.iOS(.v13)],
  products: [
    .library(name: "tauri-plugin-mingpian-device", type: .static, targets: ["tauri-plugin-mingpian-device"])
  ],
  dependencies: [
    .package(name: "Tauri", path: "../.tauri/tauri-api")
  ],
  targets: [
    .target(name: "tauri-plugin-mingpian-device", dependencies: [.byName(name: "Tauri")], path: "Sources")
  ]
)
