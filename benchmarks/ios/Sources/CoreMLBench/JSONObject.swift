import Foundation

/// A JSON object whose keys can only be cases of one key enum (ResultKeys.swift), so every key
/// written is one the schema test has checked.
public struct JSONObject<Key: RawRepresentable> where Key.RawValue == String {
    /// What JSONSerialization writes.
    public private(set) var storage: [String: Any] = [:]

    public init() {}

    /// Setting nil leaves the key out; a JSON null is `NSNull()`.
    public subscript(key: Key) -> Any? {
        get { storage[key.rawValue] }
        set { storage[key.rawValue] = newValue }
    }
}

/// Pretty, key-sorted JSON of a document.
public func jsonData(_ document: JSONObject<DocumentKey>) throws -> Data {
    try JSONSerialization.data(withJSONObject: document.storage, options: [.prettyPrinted, .sortedKeys])
}
