// Optimisers against hand-computed steps, masks, schedules, and training determinism.
import InfCore
import InfModels
@testable import InfTrain
import XCTest

final class OptimizerTests: XCTestCase {
    func parameter(_ values: [Float], grad: [Float], decays: Bool = true) -> Parameter {
        let p = Parameter("p", Tensor(shape: [values.count], storage: values), decays: decays)
        p.grad = Tensor(shape: [grad.count], storage: grad)
        return p
    }

    func testSGDMomentumByHand() {
        let p = parameter([1, -2], grad: [0.5, 1])
        let sgd = SGD(momentum: 0.9, weightDecay: 0.1)
        sgd.step([p], learningRate: 0.1)
        // v = g + λθ = (0.6, 0.8); θ = θ − 0.1 v
        XCTAssertEqual(p.value.storage[0], 0.94, accuracy: 1e-6)
        XCTAssertEqual(p.value.storage[1], -2.08, accuracy: 1e-6)
        sgd.step([p], learningRate: 0.1)
        // v = 0.9 (0.6, 0.8) + g + λθ = (0.54 + 0.5 + 0.094, 0.72 + 1 − 0.208)
        XCTAssertEqual(p.value.storage[0], 0.94 - 0.1 * 1.134, accuracy: 1e-6)
        XCTAssertEqual(p.value.storage[1], -2.08 - 0.1 * 1.512, accuracy: 1e-6)
    }

    func testAdamFirstStepIsLearningRateTimesSign() {
        // Bias correction makes the first step η · g/|g| (up to ε).
        let p = parameter([1, 1, 1], grad: [0.001, -3, 250], decays: false)
        Adam(weightDecay: 0.5).step([p], learningRate: 0.01)
        XCTAssertEqual(p.value.storage.map { Double($0) }, [0.99, 1.01, 0.99], accuracy: 1e-5)
    }

    func testMaskPinsPrunedWeights() {
        let p = parameter([0, 2, 0], grad: [1, 1, -1])
        p.mask = [0, 1, 0]
        SGD(momentum: 0).step([p], learningRate: 0.1)
        XCTAssertEqual(p.value.storage, [0, 1.9, 0])
    }

    func testCosineSchedule() {
        let s = CosineSchedule(peak: 1, warmupSteps: 10, totalSteps: 110)
        XCTAssertEqual(s.learningRate(step: 0), 0.1, accuracy: 1e-6)
        XCTAssertEqual(s.learningRate(step: 9), 1, accuracy: 1e-6)
        XCTAssertEqual(s.learningRate(step: 60), 0.5, accuracy: 1e-6)
        XCTAssertEqual(s.learningRate(step: 110), 0, accuracy: 1e-6)
    }

    /// Two blobs of images: class = which quadrant is bright.
    struct Quadrants: LabelledExamples {
        let images: Tensor
        let labels: [Int32]
        init(count: Int, seed: UInt64) {
            var rng = SeededRNG(seed: seed)
            var pixels = [Float](), labels = [Int32]()
            for _ in 0..<count {
                let label = rng.nextInt(below: 3)
                for c in 0..<2 { for y in 0..<8 { for x in 0..<8 {
                    let lit = (label == 0 && x < 4 && y < 4) || (label == 1 && x >= 4 && y >= 4) || (label == 2 && c == 1)
                    pixels.append((lit ? 0.8 : 0) + 0.3 * rng.nextGaussian())
                } } }
                labels.append(Int32(label))
            }
            images = Tensor(shape: [count, 2, 8, 8], storage: pixels)
            self.labels = labels
        }
        var count: Int { labels.count }
        func input(_ indices: [Int]) -> ModelInput {
            let n = 2 * 8 * 8
            return .images(Tensor(shape: [indices.count, 2, 8, 8], storage: indices.flatMap { images.storage[($0 * n)..<(($0 + 1) * n)] }))
        }
    }

    func train(seed: UInt64, optimizer: TrainingOptions.OptimizerKind) throws -> (TrainableCNN, [EpochLog]) {
        let model = try TrainableCNN(config: tinyCNNConfig, seed: 5)
        let options = TrainingOptions(epochs: 8, batchSize: 16, optimizer: optimizer, learningRate: optimizer == .sgd ? 0.05 : 0.01, seed: seed)
        let logs = Trainer.train(model, data: Quadrants(count: 192, seed: 1), validation: Quadrants(count: 96, seed: 2), options: options)
        return (model, logs)
    }

    func testTrainingLearnsAndIsDeterministic() throws {
        for kind in [TrainingOptions.OptimizerKind.sgd, .adam] {
            let (a, logs) = try train(seed: 3, optimizer: kind)
            XCTAssertLessThan(logs.last!.trainLoss, logs.first!.trainLoss * 0.7, "\(kind): loss should fall")
            XCTAssertGreaterThan(logs.last!.validationAccuracy, 0.9, "\(kind): the quadrant task is easy")
            let (b, _) = try train(seed: 3, optimizer: kind)
            XCTAssertEqual(a.namedTensors().map(\.tensor), b.namedTensors().map(\.tensor), "\(kind): same seed, same weights")
            let (c, _) = try train(seed: 4, optimizer: kind)
            XCTAssertNotEqual(a.namedTensors().map(\.tensor), c.namedTensors().map(\.tensor), "\(kind): the seed drives the shuffle")
        }
    }

    func testDistillationWithAlphaOneFollowsTheTeacherNotTheLabels() throws {
        // Teacher logits that always say class 2: a student trained on soft targets only learns that.
        let data = Quadrants(count: 96, seed: 1)
        let teacher = Tensor(shape: [96, 3], storage: (0..<96).flatMap { _ in [Float(0), 0, 6] })
        let model = try TrainableCNN(config: tinyCNNConfig, seed: 5)
        Trainer.train(model, data: data, validation: data, options: TrainingOptions(epochs: 3, batchSize: 16, optimizer: .adam, learningRate: 0.01, alpha: 1),
                      teacherLogits: teacher)
        XCTAssertEqual(Trainer.predictions(model, data), [Int32](repeating: 2, count: 96))
    }
}

func XCTAssertEqual(_ a: [Double], _ b: [Double], accuracy: Double, file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, file: file, line: line)
    for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: accuracy, file: file, line: line) }
}
