// The two bundled distillation tasks. Their checkpoints live in Models/ and
// `infbench distill` retrains them from these recipes.
import InfCore
import InfModels

extension DistillationTask {
    /// CNN on generated 3×32×32 shape images, 10 classes.
    public static let shapes: DistillationTask = {
        func conv(_ c: Int) -> CNNConfig.Stage { .init(outChannels: c, kernelSize: 3, padding: 1, pool: .max, poolSize: 2) }
        return DistillationTask(
            name: "shapes",
            dataset: DatasetSpec(name: "shapes", seed: 1, train: 30_000, validation: 1_000, test: 2_000, size: 32),
            teacher: .cnn(CNNConfig(inputShape: [3, 32, 32], stages: [conv(32), conv(64), conv(128)], hidden: [128], numClasses: 10)),
            student: .cnn(CNNConfig(inputShape: [3, 32, 32], stages: [conv(4), conv(8), conv(16)], hidden: [32], numClasses: 10)),
            teacherTraining: TrainingOptions(epochs: 8, batchSize: 64, optimizer: .adam, learningRate: 2e-3, weightDecay: 1e-4, seed: 11),
            // Adam, as the teacher: with SGD at lr 0.05 (or 0.02) the distillation loss, whose gradient
            // grows with τ, blew this small student up (chance accuracy); Adam is stable for both students.
            studentTraining: TrainingOptions(epochs: 12, batchSize: 64, optimizer: .adam, learningRate: 2e-3, weightDecay: 1e-4, seed: 12,
                                             temperature: 4, alpha: 0.9),
            studentLayersFromTeacher: nil,
            describeTeacher: "CNN teacher on 3×32×32 shape images: 3 × (conv3×3–ReLU–maxpool) with 32/64/128 channels, FC 128, 10 classes",
            describeStudent: "CNN student on 3×32×32 shape images: 3 × (conv3×3–ReLU–maxpool) with 4/8/16 channels, FC 32, 10 classes")
    }()

    /// BERT encoder classifying generated sentences with negation scope, 3 classes.
    public static let sentiment: DistillationTask = {
        let labels = Dictionary(uniqueKeysWithValues: SentimentDataset.classNames.enumerated().map { (String($0), $1) })
        func encoder(layers: Int) -> TransformerConfig {
            TransformerConfig(vocabSize: SentimentDataset.vocabularySize, hiddenSize: 64, numLayers: layers, numHeads: 4,
                              intermediateSize: 256, maxPositions: 32, layerNormEps: 1e-12, id2label: labels)
        }
        return DistillationTask(
            name: "sentiment",
            dataset: DatasetSpec(name: "sentiment", seed: 1, train: 16_000, validation: 1_000, test: 2_000, size: 32),
            teacher: .encoder(encoder(layers: 4)),
            student: .encoder(encoder(layers: 2)),
            teacherTraining: TrainingOptions(epochs: 10, batchSize: 32, optimizer: .adam, learningRate: 1e-3, weightDecay: 0.01, seed: 21),
            studentTraining: TrainingOptions(epochs: 10, batchSize: 32, optimizer: .adam, learningRate: 1e-3, weightDecay: 0.01, seed: 22,
                                             temperature: 2, alpha: 0.7),
            studentLayersFromTeacher: [0, 2],
            describeTeacher: "BERT encoder classifier on generated sentences (negation scope): 4 layers, hidden 64, 4 heads, FFN 256, 3 classes",
            describeStudent: "BERT encoder classifier on generated sentences (negation scope): 2 layers, hidden 64, 4 heads, FFN 256, 3 classes")
    }()

    public static let all = [shapes, sentiment]
}
