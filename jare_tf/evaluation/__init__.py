"""Evaluation: toy-setting metrics (parameter distances, mode coverage); image metrics through TF-GAN's eval code
(IS, FID, KID) and k-NN precision, recall, density and coverage, with Inception, the Fashion-MNIST domain
classifier or a stand-in network; the checkpoint evaluator behind jare-eval; the report figures' checks."""
