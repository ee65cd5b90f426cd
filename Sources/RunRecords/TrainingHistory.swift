import AlaverifyBase
import Foundation
import ScoreMetrics

/// A malformed `history.jsonl`: the 1-based line and what is wrong with it (line 0: the whole file).
public struct HistoryError: AlaverifyError, Sendable, Equatable {
    /// The line (1-based), or 0 when the problem is the file as a whole.
    public var line: Int
    /// What is wrong, and what was expected.
    public var message: String

    /// Creates an error.
    public init(line: Int, _ message: String) {
        self.line = line
        self.message = message
    }

    public var description: String { line > 0 ? "line \(line): \(message)" : message }
    public var exitStatus: ExitStatus { .dataError }
}

/// A training run's validation history: what `alaverify train` writes to `RUN/history.jsonl`,
/// one JSON object per child per validation.
public struct TrainingHistory: Sendable {
    /// The validation target, e.g. `frr@far=1e-3`.
    public var target: Metric
    /// The loss parameter names, in the order of every record's `parameters`.
    public var parameterNames: [String]
    /// The records in file order (steps ascending).
    public var records: [HistoryRecord]

    /// Creates a history from records; every record has `parameterNames.count` parameters.
    public init(target: Metric, parameterNames: [String], records: [HistoryRecord]) {
        self.target = target
        self.parameterNames = parameterNames
        self.records = records
    }

    /// The child models, ascending.
    public var children: [Int] { Array(Set(records.map(\.child))).sorted() }
    /// The validation steps, ascending.
    public var steps: [Int] { Array(Set(records.map(\.step))).sorted() }
    /// True when the controller's actions were logged (an ALA run).
    public var hasActions: Bool { records.contains { $0.actions != nil } }
    /// The records of one child, in step order.
    public func records(child: Int) -> [HistoryRecord] { records.filter { $0.child == child } }

    /// The best validation, chosen as the trainer chooses the model it keeps: in file order,
    /// a record replaces the best only when strictly better (`Metric.isBetter`: a lower cost).
    public var best: HistoryRecord? {
        var out: HistoryRecord?
        for r in records where !r.value.isNaN {
            guard let b = out else { out = r; continue }
            if target.isBetter(r.value, than: b.value) { out = r }
        }
        return out
    }

    /// Parses `history.jsonl`. Blank lines are skipped; every other line must be a `HistoryRecord`
    /// (with `step`, `child`, `loss`, `validation.target`, `validation.value` and
    /// `loss_parameters`), the same target and parameter names on every line, steps in ascending
    /// order and each (step, child) once.
    public static func parse(_ bytes: [UInt8]) throws(HistoryError) -> TrainingHistory {
        var records = [HistoryRecord]()
        for (n, line) in lines(bytes) {
            func fail(_ message: String) -> HistoryError { HistoryError(line: n, message) }
            let r: HistoryRecord
            do {
                r = try record(line)
            } catch let error as HistoryRecordError {
                throw fail(error.message)
            } catch let error as JSONParseError {
                throw fail(error.description)
            } catch {
                throw fail("\(error)")
            }
            if let first = records.first {
                guard r.validation.target == first.validation.target else {
                    throw fail("target '\(r.validation.target)' differs from '\(first.validation.target)' on the earlier lines")
                }
                let names = r.lossParameters.names, earlier = first.lossParameters.names
                guard names == earlier else {
                    throw fail("loss parameters [\(names.joined(separator: ", "))] differ from the earlier lines' [\(earlier.joined(separator: ", "))]")
                }
            }
            if let last = records.last, r.step < last.step {
                throw fail("step \(r.step) comes after step \(last.step); the lines must be in step order")
            }
            guard !records.contains(where: { $0.step == r.step && $0.child == r.child }) else {
                throw fail("a second record for step \(r.step), child \(r.child)")
            }
            records.append(r)
        }
        guard let first = records.first else { throw HistoryError(line: 0, "no validation records (the run stopped before its first validation)") }
        return TrainingHistory(target: first.validation.target, parameterNames: first.lossParameters.names, records: records)
    }

    /// One line's record.
    public static func record<S: Sequence>(_ line: S) throws -> HistoryRecord where S.Element == UInt8 {
        try JSONValueDecoder().decode(HistoryRecord.self, from: try JSONValue.parse(Data(line)))
    }

    /// One record as a line of `history.jsonl` (compact JSON, keys in the record's order, newline).
    public static func line(_ record: HistoryRecord) throws -> String {
        try JSONValueEncoder().encode(record).serialized(indent: nil) + "\n"
    }

    /// The non-blank lines of a file with their 1-based numbers.
    static func lines(_ bytes: [UInt8]) -> [(Int, ArraySlice<UInt8>)] {
        var out = [(Int, ArraySlice<UInt8>)]()
        var number = 0, start = 0
        while start < bytes.count {
            number += 1
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            let line = bytes[start..<end]
            start = end + 1
            if !line.allSatisfy({ $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }) { out.append((number, line)) }
        }
        return out
    }

    /// The lines of `bytes` whose records are at or before `step`, as a resumed run keeps them
    /// (a line that is not a record is dropped).
    public static func truncated(_ bytes: [UInt8], after step: Int) -> String {
        lines(bytes).compactMap { _, line in
            guard let r = try? record(line), r.step <= step else { return nil }
            return String(decoding: line, as: UTF8.self) + "\n"
        }.joined()
    }
}
