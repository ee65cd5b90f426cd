import AlaverifyBase
import Foundation

/// Which shard a process computes: `i/n` with 1 <= i <= n, written as `3/8`.
public struct ShardSpec: Sendable, Hashable, LosslessStringConvertible {
    /// The shard, 1-based.
    public var index: Int
    /// The number of shards.
    public var count: Int

    /// Creates a spec; fails unless 1 <= index <= count.
    public init(index: Int, count: Int) throws(ShardSpecError) {
        guard count >= 1 else { throw ShardSpecError("the number of shards must be at least 1, got \(count)") }
        guard index >= 1, index <= count else {
            throw ShardSpecError("shard \(index)/\(count) does not exist: shards are numbered 1 to \(count)")
        }
        self.index = index
        self.count = count
    }

    /// Parses `i/n`; nil when the text is not of that form or names no shard.
    public init?(_ description: String) {
        guard let spec = try? ShardSpec.parse(description) else { return nil }
        self = spec
    }

    /// Parses `i/n`, saying what is wrong.
    public static func parse(_ text: String) throws(ShardSpecError) -> ShardSpec {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let i = Int(parts[0]), let n = Int(parts[1]) else {
            throw ShardSpecError("'\(text)' is not a shard: write i/n (e.g. 3/8) or auto")
        }
        return try ShardSpec(index: i, count: n)
    }

    public var description: String { "\(index)/\(count)" }

    /// The shard of a job array task, from the environment: Slurm's `SLURM_ARRAY_TASK_ID`
    /// among `SLURM_ARRAY_TASK_COUNT` tasks (numbered from `SLURM_ARRAY_TASK_MIN`, step
    /// `SLURM_ARRAY_TASK_STEP`), or a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` (0-based)
    /// with `shards` given.
    public static func fromEnvironment(_ environment: [String: String], shards: Int?) throws(ShardSpecError) -> ShardSpec {
        func number(_ key: String) throws(ShardSpecError) -> Int? {
            guard let text = environment[key] else { return nil }
            guard let value = Int(text) else { throw ShardSpecError("\(key)='\(text)' is not a number") }
            return value
        }
        if let task = try number("SLURM_ARRAY_TASK_ID") {
            guard let count = try number("SLURM_ARRAY_TASK_COUNT") else {
                throw ShardSpecError("SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not (Slurm 19+ sets both)")
            }
            let first = try number("SLURM_ARRAY_TASK_MIN") ?? 0
            let step = max(1, try number("SLURM_ARRAY_TASK_STEP") ?? 1)
            guard (task - first) % step == 0 else {
                throw ShardSpecError("SLURM_ARRAY_TASK_ID=\(task) is not on the array's grid (min \(first), step \(step))")
            }
            if let shards, shards != count {
                throw ShardSpecError("--shards \(shards) disagrees with the array's \(count) tasks")
            }
            return try ShardSpec(index: (task - first) / step + 1, count: count)
        }
        if let index = try number("JOB_COMPLETION_INDEX") {
            guard let shards else {
                throw ShardSpecError("JOB_COMPLETION_INDEX is set: give the number of shards with --shards (the Job's completions)")
            }
            return try ShardSpec(index: index + 1, count: shards)
        }
        throw ShardSpecError(
            "--shard auto needs a job array task: SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT (sbatch --array) or JOB_COMPLETION_INDEX with --shards (Kubernetes Indexed Job); neither is set")
    }

    /// The file a shard of `output` is written to: `scores.h5` -> `scores.shard-3-of-8.h5`.
    public func fileName(for output: String) -> String {
        let slash = output.lastIndex(of: "/").map { output.index(after: $0) } ?? output.startIndex
        let name = output[slash...]
        let tag = ".shard-\(index)-of-\(count)"
        if let dot = name.lastIndex(of: "."), dot != name.startIndex {
            return String(output[..<dot]) + tag + String(output[dot...])
        }
        return output + tag
    }

    /// The output a shard file belongs to (the inverse of `fileName(for:)`), if it is so named.
    public static func output(ofShardFile path: String) -> (output: String, spec: ShardSpec)? {
        guard let range = path.range(of: #"\.shard-([0-9]+)-of-([0-9]+)"#, options: [.regularExpression, .backwards]) else {
            return nil
        }
        let tag = path[range].dropFirst(".shard-".count)
        let numbers = tag.components(separatedBy: "-of-")
        guard numbers.count == 2, let i = Int(numbers[0]), let n = Int(numbers[1]),
              let spec = try? ShardSpec(index: i, count: n) else { return nil }
        return (String(path[..<range.lowerBound]) + String(path[range.upperBound...]), spec)
    }
}

/// A shard that cannot be chosen (exit 64).
public struct ShardSpecError: AlaverifyError, Sendable {
    /// What is wrong.
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
    public var exitStatus: ExitStatus { .usage }
}
