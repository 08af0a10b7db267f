output "repository_url" {
  description = "Where to push the SageMaker image: CLV_SAGEMAKER_IMAGE_URI is <repository_url>:<tag>."
  value       = aws_ecr_repository.this.repository_url
}
