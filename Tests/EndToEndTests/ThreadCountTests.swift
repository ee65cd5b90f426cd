import Foundation
import LossAlignment
import Testing

@Suite("alaverify train results do not depend on the thread count (the built binary)")
struct ThreadCountTests {
    @Test("one child of the MLP: OpenBLAS with 1 and with 2 threads train the same weights bit for bit")
    func oneAndTwoThreads() throws {
        // One child leaves OpenBLAS its threads; with two, the optimizer's update of the
        // 1024 x 512 layer and the loss's pair loop run in two halves on two threads.
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let flags = [
            "--network", "mlp", "--embedding", "16", "--children", "1", "--loss-control", "fixed", "--steps", "6",
            "--interval", "3", "--batch-identities", "8", "--batch-samples", "4", "--validation-samples", "4",
        ]
        var models: [[[UInt32]]] = []
        for threads in ["1", "2"] {
            let run = dir.appendingPathComponent("threads-\(threads)")
            let r = try CLI.run(["train", "--out", run.path] + flags, environment: ["OPENBLAS_NUM_THREADS": threads])
            #expect(r.status == 0, "\(r.stderr)")
            let model = try RunFiles.read(path: run.appendingPathComponent("model.h5").path, formats: ["alaverify-model"])
            models.append(model.states.flatMap(stateBits))
        }
        #expect(models[0].count > 0)
        #expect(models[0] == models[1], "the weights differ between 1 and 2 threads")
    }
}
