import Foundation
import Testing
import TestSupport

@Suite("NumPy in, NumPy out: score files through numpy itself")
struct NumPyRoundTripTests {
    /// `metrics --json -` of `files`, each system without its name and source.
    static func metrics(_ files: [String], _ extra: [String] = []) throws -> [NSDictionary] {
        let r = try CLI.run(["metrics"] + files + ["--far", "1e-2", "--far", "1e-1", "--json", "-"] + extra)
        try #require(r.status == 0, "\(r.stderr)")
        let document = try #require(try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any])
        let systems = try #require(document["systems"] as? [[String: Any]])
        return systems.map { s in
            var s = s
            s["name"] = nil
            s["source"] = nil
            return s as NSDictionary
        }
    }

    @Test("every layout numpy writes (savez, savez_compressed, structured, arrays one after another) gives the CSV's metrics")
    func numpyWrites() throws {
        try Python.require(["numpy"])
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let w = try Python.run([Python.script("numpy_roundtrip.py"), "write", dir.path])
        try #require(w.status == 0, "\(w.stderr)")
        let files = ["reference.csv", "savez.npz", "compressed.npz", "structured.npy", "arrays.npy"].map { dir.appendingPathComponent($0).path }
        // Identity numbers differ between layouts (names, int64, int32), so the bootstrap's draws do; counts of identity pairs do not.
        let systems = try Self.metrics(files, ["--ci", "none"])
        #expect(systems.count == 5)
        for (k, s) in systems.enumerated().dropFirst() { #expect(s == systems[0], "\(files[k]) differs from the CSV:\n\(s)\n\(systems[0])") }
        let points = try #require(systems[0]["operating_points"] as? [[String: Any]])
        #expect((points.first?["impostor_identity_pairs"] as? Int ?? 0) > 600, "identities read from every layout (40 identities)")
        let counts = try #require(systems[0]["counts"] as? [String: Int])
        #expect(counts["genuine_failed"]! + counts["impostor_failed"]! == 1, "the NaN score is a failed comparison")
        #expect(counts["genuine"]! + counts["impostor"]! == 3000)
    }

    @Test("score --out F.npz: numpy.load reads it (no pickle), writes it back, and alaverify reads that as the HDF5 scores")
    func scoreOut() throws {
        try Python.require(["numpy"])
        let run = try straightRun.get()
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let npz = dir.appendingPathComponent("s.npz").path, h5 = dir.appendingPathComponent("s.h5").path
        for out in [npz, h5] {
            let r = try CLI.run(["score", "--model", run.path, "--out", out])
            try #require(r.status == 0, "\(r.stderr)")
        }
        let back = dir.appendingPathComponent("back.npz").path
        let c = try Python.run([Python.script("numpy_roundtrip.py"), "check", npz, back])
        try #require(c.status == 0, "\(c.stderr)")
        let summary = try #require(try JSONSerialization.jsonObject(with: Data(c.stdout.utf8)) as? [String: Any])
        #expect(summary["files"] as? [String] == ["labels", "left_id", "right_id", "scores"])
        #expect(summary["finite"] as? Bool == true)
        let systems = try Self.metrics([h5, npz, back])
        #expect(systems[1] == systems[0] && systems[2] == systems[0], "subject bootstrap included: same identities, same draws")
        #expect(summary["count"] as? Int == (systems[0]["counts"] as? [String: Int]).map { $0["genuine"]! + $0["impostor"]! })
        let r = try CLI.run(["score", "--model", run.path, "--out", dir.appendingPathComponent("s.npy").path])
        #expect(r.status == 64 && r.stderr.contains("an .npy holds one array; name an .npz"), "\(r.stderr)")
    }

    @Test("bad NumPy files written by numpy: one line naming the file, exit 65", arguments: [
        ("object.npy", "an object array (pickled Python objects) is refused, never unpickled"),
        ("no-labels.npz", "missing array 'labels' (an .npz score file holds scores and labels, optionally left_id and right_id); found: scores, label"),
        ("int-scores.npy", "array 1 (scores): scores are int64; expected float32 or float64"),
        ("matrix.npy", "array 1 (scores): has shape (2, 3000); expected a 1-d array"),
        ("float-labels.npz", "labels.npy: labels are float64; expected bool or integer 0/1 labels"),
    ])
    func badFiles(name: String, message: String) throws {
        try Python.require(["numpy"])
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let w = try Python.run([Python.script("numpy_roundtrip.py"), "write", dir.path])
        try #require(w.status == 0, "\(w.stderr)")
        let path = dir.appendingPathComponent(name).path
        for command in [["metrics", path], ["report", path, "--out", dir.appendingPathComponent("report").path],
                        ["gate", "--protocol", repositoryRoot.appendingPathComponent("protocols/demo-pixels8.yaml").path, path]] {
            let r = try CLI.run(command)
            #expect(r.status == 65, "\(command[0]): \(r.status) \(r.stderr)")
            #expect(r.stderr.hasPrefix("alaverify: \(path): \(message)"), "\(command[0]): \(r.stderr)")
            #expect(r.stderr.filter { $0 == "\n" }.count == 1 && r.stderr.hasSuffix("\n"), "one line: \(r.stderr)")
        }
    }
}
