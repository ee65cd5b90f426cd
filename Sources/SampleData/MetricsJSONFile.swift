import AlaverifyBase
import Foundation
import ScoreMetrics

/// One system of a metrics JSON file (SPEC section 3), as gates and threshold sources read it.
public struct MetricsJSONSystem: Sendable {
    /// The whole document (a baseline also holds its `baseline` record there).
    public var document: JSONValue
    /// The system's position in `systems`.
    public var index: Int
    /// The system's object.
    public var object: JSONValue
    /// The system's name ("" when it has none).
    public var name: String

    /// Reads `path` and picks the system named `wanted`, or the only one.
    /// - Throws: `DataError` for an unreadable file, invalid JSON, another schema, no systems, an
    ///   unknown name, or several systems and no name.
    public static func read(path: String, system wanted: String?) throws(DataError) -> MetricsJSONSystem {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError(file: path, FileManager.default.fileExists(atPath: path) ? "cannot be read" : "no such file")
        }
        let document: JSONValue
        do { document = try JSONValue.parse(data) } catch { throw DataError(file: path, error.description) }
        guard case .string(let schema)? = document["schema"], schema == MetricsJSON.schema else {
            throw DataError(file: path, "not a metrics JSON: expected \"schema\": \"\(MetricsJSON.schema)\"")
        }
        guard case .array(let systems)? = document["systems"], !systems.isEmpty else {
            throw DataError(file: path, "key systems: expected a non-empty list of systems")
        }
        let names = systems.map { system -> String in if case .string(let s)? = system["name"] { return s }; return "" }
        let index: Int
        if let wanted {
            guard let k = names.firstIndex(of: wanted) else {
                throw DataError(file: path, "no system named '\(wanted)' (systems: \(names.joined(separator: ", ")))")
            }
            index = k
        } else {
            guard systems.count == 1 else {
                throw DataError(file: path, "holds \(systems.count) systems (\(names.joined(separator: ", "))); choose one by name")
            }
            index = 0
        }
        return MetricsJSONSystem(document: document, index: index, object: systems[index], name: names[index])
    }
}
