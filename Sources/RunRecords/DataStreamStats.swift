/// What streaming the train split cost so far: batches handed to the trainer, the seconds it
/// waited for them and the seconds the prefetch thread spent reading them.
public struct DataStreamStats: Sendable, Equatable, Codable {
    /// Batches the trainer consumed.
    public var batches: Int
    /// Seconds the trainer waited for a batch that was not ready (the stall time).
    public var stallSeconds: Double
    /// Seconds the prefetch thread spent reading and inflating the consumed batches.
    public var readSeconds: Double

    /// Stats with the given totals (zero by default).
    public init(batches: Int = 0, stallSeconds: Double = 0, readSeconds: Double = 0) {
        self.batches = batches
        self.stallSeconds = stallSeconds
        self.readSeconds = readSeconds
    }

    /// The sum of two stats.
    public static func + (a: DataStreamStats, b: DataStreamStats) -> DataStreamStats {
        DataStreamStats(batches: a.batches + b.batches, stallSeconds: a.stallSeconds + b.stallSeconds, readSeconds: a.readSeconds + b.readSeconds)
    }
}
